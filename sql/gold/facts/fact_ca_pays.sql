-- gold.fact_ca_pays: sales per client country (NULL: country unknown), with its share of sales.
-- Reads: gold.fact_achats.
--
-- serve: bounded

SELECT
    pays,
    SUM(montant)                                                           AS ca,
    COUNT(*)                                                               AS nb_achats,
    COUNT(DISTINCT id_client)                                              AS nb_clients,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS panier_moyen,
    CAST(SUM(montant) AS DOUBLE) / CAST(SUM(SUM(montant)) OVER () AS DOUBLE) AS part_ca
FROM gold.fact_achats
GROUP BY pays
