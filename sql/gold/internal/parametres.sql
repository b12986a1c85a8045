-- materialized: staging
--
-- gold.parametres: the one-row reference of every Gold formula.
-- Reads: silver.achats.
--
-- ref_date = date of the latest purchase + 1 day. Months are counted as mois_index =
-- year * 12 + month - 1, so month arithmetic is integer arithmetic in every engine.
-- (Portable SQL: DATE + INTERVAL is a TIMESTAMP in DuckDB, hence the outer cast; integer
-- division is spelled FLOOR(a / b) because DuckDB and Spark divide integers exactly.)

SELECT
    CAST(CAST(MAX(date_achat) AS DATE) + INTERVAL '1' DAY AS DATE)         AS ref_date,
    CAST(MIN(date_achat) AS DATE)                                          AS date_min,
    CAST(MAX(date_achat) AS DATE)                                          AS date_max,
    MIN(CAST(date_part('year', date_achat) AS BIGINT) * 12
        + CAST(date_part('month', date_achat) AS BIGINT) - 1)              AS premier_mois_index,
    MAX(CAST(date_part('year', date_achat) AS BIGINT) * 12
        + CAST(date_part('month', date_achat) AS BIGINT) - 1)              AS dernier_mois_index
FROM silver.achats
