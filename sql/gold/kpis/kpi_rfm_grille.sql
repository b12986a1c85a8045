-- gold.kpi_rfm_grille: the R × F grid of the RFM scores, for the dashboard's heatmap: one row per
-- (r_score, f_score) pair that has at least one buyer, with its segment, buyers and revenue.
-- Reads: gold.dim_rfm.
--
-- part_clients and part_ca are shares of all buyers' count and revenue. A pair without buyer
-- has no row (the reader shows it as 0); no buyer at all gives no row.
--
-- serve: bounded
-- route: /kpis/rfm/grille order by r_score, f_score

SELECT
    r_score,
    f_score,
    segment,
    COUNT(*)                                                               AS nb_clients,
    CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER ()                       AS part_clients,
    SUM(montant)                                                           AS ca,
    CAST(SUM(montant) AS DOUBLE) / SUM(CAST(SUM(montant) AS DOUBLE)) OVER () AS part_ca
FROM gold.dim_rfm
GROUP BY r_score, f_score, segment
