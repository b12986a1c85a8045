-- gold.fact_ca_jour: sales per calendar day (days with sales).
-- Reads: gold.fact_achats.
--
-- serve: bounded
-- index: date
--
-- nb_clients is counted from one row per (date, client), which spills past the memory
-- pool: COUNT(DISTINCT id_client) keeps a set of clients per day in memory (at SF 100 such
-- sets were refused by a 1 GiB pool). COUNT(id_client) skips a NULL client as COUNT(DISTINCT) did.

WITH par_client AS (
    SELECT
        "date",
        id_client,
        SUM(montant)                                                       AS ca,
        COUNT(*)                                                           AS nb_achats
    FROM gold.fact_achats
    GROUP BY "date", id_client
)

SELECT
    "date",
    CAST(SUM(ca) AS DECIMAL(22, 2))                                        AS ca,
    COALESCE(CAST(SUM(nb_achats) AS BIGINT), 0)                            AS nb_achats,
    COUNT(id_client)                                                       AS nb_clients,
    CAST(SUM(ca) AS DOUBLE) / SUM(nb_achats)                               AS panier_moyen
FROM par_client
GROUP BY "date"
