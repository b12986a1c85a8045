-- materialized: staging
--
-- gold.ca_acheteurs: CA of every buyer with its rank ascending (rang_asc, from 1) and
-- descending (rang_desc), the number of buyers and the total CA, for the concentration measures.
-- Reads: silver.achats.

WITH par_client AS (
    SELECT id_client, CAST(SUM(montant) AS DOUBLE) AS ca
    FROM silver.achats
    GROUP BY id_client
)

SELECT
    id_client,
    ca,
    ROW_NUMBER() OVER (ORDER BY ca, id_client)                             AS rang_asc,
    ROW_NUMBER() OVER (ORDER BY ca DESC, id_client)                        AS rang_desc,
    SUM(ca) OVER (ORDER BY ca DESC, id_client
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)        AS ca_cumule_desc,
    SUM(ca) OVER (ORDER BY ca, id_client
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)        AS ca_cumule_asc,
    COUNT(*) OVER ()                                                       AS nb_clients,
    SUM(ca) OVER ()                                                        AS ca_total
FROM par_client
