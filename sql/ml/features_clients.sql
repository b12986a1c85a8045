-- ML features of every client with at least one purchase before a cutoff, computed only from
-- the purchases strictly before it: nothing at or after the cutoff is read (no leakage).
-- Reads: gold.fact_achats. Parameter: {{ cutoff }} (TIMESTAMP, the first instant not seen).
--
-- Run by the ML stage at the scoring cutoff (ref_date: segmentation and churn scores) and at
-- the churn model's training and evaluation cutoffs. Days are whole calendar days, as in
-- gold.dim_rfm; recent activity is counted over the 90 and the 90 to 180 days before the
-- cutoff, so a falling purchase rate shows. One row per client, ordered by id_client.

WITH avant AS (
    SELECT
        id_client,
        date_achat,
        montant
    FROM gold.fact_achats
    WHERE date_achat < {{ cutoff }}
)

SELECT
    id_client,
    CAST(jours_entre(CAST({{ cutoff }} AS DATE), CAST(MAX(date_achat) AS DATE)) AS DOUBLE)
                                                                           AS recence_jours,
    CAST(COUNT(*) AS DOUBLE)                                               AS frequence,
    CAST(SUM(montant) AS DOUBLE)                                           AS montant,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS panier_moyen,
    CAST(jours_entre(CAST({{ cutoff }} AS DATE), CAST(MIN(date_achat) AS DATE)) AS DOUBLE)
                                                                           AS anciennete_jours,
    CAST(SUM(CASE
        WHEN date_achat >= {{ cutoff }} - INTERVAL '90 days' THEN 1 ELSE 0
    END) AS DOUBLE)                                                        AS achats_90j,
    CAST(SUM(CASE
        WHEN date_achat >= {{ cutoff }} - INTERVAL '180 days'
         AND date_achat < {{ cutoff }} - INTERVAL '90 days' THEN 1 ELSE 0
    END) AS DOUBLE)                                                        AS achats_90_180j
FROM avant
GROUP BY id_client
ORDER BY id_client
