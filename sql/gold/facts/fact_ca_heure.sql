-- gold.fact_ca_heure: sales per hour of the day (0-23), all days together.
-- Reads: gold.fact_achats.
--
-- serve: bounded

SELECT
    heure,
    SUM(montant)                                                           AS ca,
    COUNT(*)                                                               AS nb_achats,
    COUNT(DISTINCT id_client)                                              AS nb_clients,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS panier_moyen
FROM gold.fact_achats
GROUP BY heure
