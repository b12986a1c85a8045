-- Churn label of every client with at least one purchase before a cutoff: churned when they
-- made no purchase in [cutoff, horizon_end) (the H days after the cutoff, 90 by default).
-- Reads: gold.fact_achats. Parameters: {{ cutoff }}, {{ horizon_end }} (TIMESTAMPs).
-- Same clients, same order as ml/features_clients.sql at the same cutoff.

WITH clients AS (
    SELECT DISTINCT id_client
    FROM gold.fact_achats
    WHERE date_achat < {{ cutoff }}
),

apres AS (
    SELECT
        id_client,
        COUNT(*)                                                           AS nb_achats
    FROM gold.fact_achats
    WHERE date_achat >= {{ cutoff }}
      AND date_achat < {{ horizon_end }}
    GROUP BY id_client
)

SELECT
    c.id_client,
    a.nb_achats IS NULL                                                    AS churn
FROM clients AS c
LEFT JOIN apres AS a ON a.id_client = c.id_client
ORDER BY c.id_client
