-- gold.fact_ca_pays: sales per client country (NULL: country unknown), with its share of sales.
-- Reads: gold.fact_achats.
--
-- serve: bounded
--
-- nb_clients is counted from one row per (pays, client), which spills past the memory
-- pool: COUNT(DISTINCT id_client) keeps a set of clients per country in memory (at SF 100 such
-- sets were refused by a 1 GiB pool). COUNT(id_client) skips a NULL client as COUNT(DISTINCT) did.

WITH par_client AS (
    SELECT
        pays,
        id_client,
        SUM(montant)                                                       AS ca,
        COUNT(*)                                                           AS nb_achats
    FROM gold.fact_achats
    GROUP BY pays, id_client
)

SELECT
    pays,
    CAST(SUM(ca) AS DECIMAL(22, 2))                                        AS ca,
    COALESCE(CAST(SUM(nb_achats) AS BIGINT), 0)                            AS nb_achats,
    COUNT(id_client)                                                       AS nb_clients,
    CAST(SUM(ca) AS DOUBLE) / SUM(nb_achats)                               AS panier_moyen,
    CAST(SUM(ca) AS DOUBLE) / CAST(SUM(SUM(ca)) OVER () AS DOUBLE)         AS part_ca
FROM par_client
GROUP BY pays
