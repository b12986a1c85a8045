-- gold.fact_ca_jour: sales per calendar day (days with sales).
-- Reads: gold.fact_achats.
--
-- serve: bounded
-- index: date

SELECT
    "date",
    SUM(montant)                                                           AS ca,
    COUNT(*)                                                               AS nb_achats,
    COUNT(DISTINCT id_client)                                              AS nb_clients,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS panier_moyen
FROM gold.fact_achats
GROUP BY "date"
