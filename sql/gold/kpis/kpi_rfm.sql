-- gold.kpi_rfm: each RFM segment with its number of buyers, its revenue and their shares, for
-- the API's /kpis/rfm and the dashboard (precomputed, so no serving store has to aggregate).
-- Reads: gold.dim_rfm.
--
-- serve: bounded
-- route: /kpis/rfm order by nb_clients desc, segment

SELECT
    segment,
    COUNT(*)                                                               AS nb_clients,
    CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER ()                       AS part_clients,
    SUM(montant)                                                           AS ca,
    CAST(SUM(montant) AS DOUBLE) / SUM(CAST(SUM(montant) AS DOUBLE)) OVER () AS part_ca,
    CAST(SUM(recence_jours) AS DOUBLE) / COUNT(*)                          AS recence_moyenne,
    CAST(SUM(frequence) AS DOUBLE) / COUNT(*)                              AS frequence_moyenne,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS montant_moyen
FROM gold.dim_rfm
GROUP BY segment
