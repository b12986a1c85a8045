-- gold.fact_ca_semaine: sales per ISO week, identified by the date of its Monday.
-- Reads: gold.fact_achats.
--
-- serve: bounded
-- index: semaine

SELECT
    CAST(date_trunc('week', date_achat) AS DATE)                           AS semaine,
    SUM(montant)                                                           AS ca,
    COUNT(*)                                                               AS nb_achats,
    COUNT(DISTINCT id_client)                                              AS nb_clients,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS panier_moyen
FROM gold.fact_achats
GROUP BY CAST(date_trunc('week', date_achat) AS DATE)
