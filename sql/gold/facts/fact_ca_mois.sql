-- gold.fact_ca_mois: sales per month, identified by the date of its first day.
-- Reads: gold.fact_achats.
--
-- serve: bounded
-- index: mois

SELECT
    CAST(date_trunc('month', date_achat) AS DATE)                          AS mois,
    SUM(montant)                                                           AS ca,
    COUNT(*)                                                               AS nb_achats,
    COUNT(DISTINCT id_client)                                              AS nb_clients,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS panier_moyen
FROM gold.fact_achats
GROUP BY CAST(date_trunc('month', date_achat) AS DATE)
