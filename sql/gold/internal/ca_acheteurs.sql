-- materialized: staging
--
-- gold.ca_acheteurs: CA of every buyer with its rank ascending (rang_asc, from 1) and
-- descending (rang_desc), the number of buyers and the total CA, for the concentration measures.
-- Reads: gold.rfm_par_client (the CA of every buyer, aggregated once for the RFM scores).

WITH par_client AS (
    SELECT id_client, CAST(montant AS DOUBLE) AS ca
    FROM gold.rfm_par_client
),

-- The totals as a one-row aggregate joined to every buyer, not windows OVER (): such a window
-- gathers every buyer into one batch (804 MB at SF 100), which the next sort must then hold at
-- once, more than an executor's task share of its memory pool.
totaux AS (
    SELECT COUNT(*) AS nb_clients, SUM(ca) AS ca_total
    FROM par_client
)

SELECT
    p.id_client,
    p.ca,
    ROW_NUMBER() OVER (ORDER BY p.ca, p.id_client)                         AS rang_asc,
    ROW_NUMBER() OVER (ORDER BY p.ca DESC, p.id_client)                    AS rang_desc,
    SUM(p.ca) OVER (ORDER BY p.ca DESC, p.id_client
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)      AS ca_cumule_desc,
    SUM(p.ca) OVER (ORDER BY p.ca, p.id_client
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)      AS ca_cumule_asc,
    t.nb_clients,
    t.ca_total
FROM par_client AS p
CROSS JOIN totaux AS t
