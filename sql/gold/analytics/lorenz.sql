-- gold.lorenz: the Lorenz curve of buyers' CA in 101 points.
-- Reads: gold.ca_acheteurs.
--
-- Point j (0..100): part_clients = j / 100; part_ca_cumulee = CA share of the
-- FLOOR(j * n / 100) smallest buyers (0 at j = 0, 1 at j = 100).
-- No point at all without any buyer.
--
-- serve: bounded

WITH points AS (
    SELECT unnest(generate_series(0, 100)) AS j
),

totaux AS (
    SELECT MAX(nb_clients) AS nb_clients, MAX(ca_total) AS ca_total
    FROM gold.ca_acheteurs
    HAVING COUNT(*) > 0
),

cibles AS (
    SELECT p.j, CAST(FLOOR((p.j * t.nb_clients) / 100) AS BIGINT) AS k, t.ca_total
    FROM points AS p
    CROSS JOIN totaux AS t
)

SELECT
    CAST(c.j AS DOUBLE) / 100                                              AS part_clients,
    COALESCE(a.ca_cumule_asc, 0.0) / c.ca_total                            AS part_ca_cumulee
FROM cibles AS c
LEFT JOIN gold.ca_acheteurs AS a
    ON a.rang_asc = c.k
