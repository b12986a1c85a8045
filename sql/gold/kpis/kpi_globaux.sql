-- gold.kpi_globaux: the headline figures (one row).
-- Reads: gold.rfm_par_client, silver.clients, gold.kpi_clv, gold.kpi_retention,
--        gold.concentration, gold.parametres.
--
-- panier_moyen = ca_total / nb_achats; clv_moyenne = mean clv_12m over buyers;
-- taux_retention_moyen = mean of kpi_retention.taux_retention; gini and part_ca_top20 as in
-- gold.concentration.
-- Without any purchase the row is still there: ca_total 0, counts 0, everything with no base
-- (panier_moyen, means, gini, dates) NULL.
--
-- serve: bounded

-- Counted from the per-buyer staging table (one row per client, already written for the RFM
-- scores) rather than COUNT(DISTINCT id_client) over the purchases, whose single set of clients
-- cannot spill past the memory pool.
WITH ventes AS (
    SELECT
        COALESCE(CAST(SUM(montant) AS DECIMAL(22, 2)), CAST(0 AS DECIMAL(22, 2))) AS ca_total,
        COALESCE(CAST(SUM(frequence) AS BIGINT), 0)                        AS nb_achats,
        COUNT(id_client)                                                   AS nb_clients_acheteurs
    FROM gold.rfm_par_client
),

inscrits AS (
    SELECT COUNT(*) AS nb_clients_inscrits FROM silver.clients
),

clv AS (
    SELECT AVG(clv_12m) AS clv_moyenne FROM gold.kpi_clv
),

retention AS (
    SELECT AVG(taux_retention) AS taux_retention_moyen FROM gold.kpi_retention
)

SELECT
    v.ca_total,
    v.nb_achats,
    v.nb_clients_acheteurs,
    i.nb_clients_inscrits,
    CASE WHEN v.nb_achats > 0
         THEN CAST(v.ca_total AS DOUBLE) / v.nb_achats END                 AS panier_moyen,
    l.clv_moyenne,
    r.taux_retention_moyen,
    c.gini,
    c.part_ca_top20,
    p.date_min,
    p.date_max,
    p.ref_date
FROM ventes AS v
CROSS JOIN inscrits AS i
CROSS JOIN clv AS l
CROSS JOIN retention AS r
CROSS JOIN gold.concentration AS c
CROSS JOIN gold.parametres AS p
