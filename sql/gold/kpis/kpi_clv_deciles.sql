-- gold.kpi_clv_deciles: the distribution of the 12-month CLV over all buyers, in deciles, for the
-- dashboard: decile 1 holds the tenth of buyers with the lowest clv_12m, decile 10 the highest.
-- Reads: gold.kpi_clv.
--
-- Buyers are ranked by clv_12m, then id_client (ties never straddle at random); NTILE(10) gives
-- deciles whose sizes differ by at most one. Fewer than 10 buyers give fewer rows; no buyer, no
-- row. part_clv = the decile's share of the sum of clv_12m over all buyers.
--
-- serve: bounded
-- route: /kpis/clv/deciles order by decile

WITH rangs AS (
    SELECT
        clv_12m,
        NTILE(10) OVER (ORDER BY clv_12m, id_client)                       AS decile
    FROM gold.kpi_clv
)

SELECT
    decile,
    COUNT(*)                                                               AS nb_clients,
    MIN(clv_12m)                                                           AS clv_min,
    MAX(clv_12m)                                                           AS clv_max,
    SUM(clv_12m) / COUNT(*)                                                AS clv_moyenne,
    SUM(clv_12m)                                                           AS clv_totale,
    SUM(clv_12m) / SUM(SUM(clv_12m)) OVER ()                               AS part_clv
FROM rangs
GROUP BY decile
