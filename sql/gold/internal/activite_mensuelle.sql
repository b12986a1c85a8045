-- materialized: staging
--
-- gold.activite_mensuelle: one row per (client, month) with at least one purchase, and the
-- month of the client's first purchase (their cohort).
-- Reads: silver.achats.

WITH mois_achats AS (
    SELECT DISTINCT
        id_client,
        CAST(date_part('year', date_achat) AS BIGINT) * 12
            + CAST(date_part('month', date_achat) AS BIGINT) - 1            AS mois_index
    FROM silver.achats
)

SELECT
    id_client,
    mois_index,
    MIN(mois_index) OVER (PARTITION BY id_client)                          AS cohorte_index
FROM mois_achats
