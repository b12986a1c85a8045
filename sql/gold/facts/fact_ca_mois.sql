-- gold.fact_ca_mois: sales per month, identified by the date of its first day.
-- Reads: gold.fact_achats.
--
-- serve: bounded
-- index: mois
--
-- nb_clients is counted from one row per (mois, client), which spills past the memory
-- pool: COUNT(DISTINCT id_client) keeps a set of clients per month in memory (at SF 100 such
-- sets were refused by a 1 GiB pool). COUNT(id_client) skips a NULL client as COUNT(DISTINCT) did.

WITH par_client AS (
    SELECT
        CAST(date_trunc('month', date_achat) AS DATE)                      AS mois,
        id_client,
        SUM(montant)                                                       AS ca,
        COUNT(*)                                                           AS nb_achats
    FROM gold.fact_achats
    GROUP BY CAST(date_trunc('month', date_achat) AS DATE), id_client
)

SELECT
    mois,
    CAST(SUM(ca) AS DECIMAL(22, 2))                                        AS ca,
    COALESCE(CAST(SUM(nb_achats) AS BIGINT), 0)                            AS nb_achats,
    COUNT(id_client)                                                       AS nb_clients,
    CAST(SUM(ca) AS DOUBLE) / SUM(nb_achats)                               AS panier_moyen
FROM par_client
GROUP BY mois
