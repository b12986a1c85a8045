-- gold.concentration: how concentrated CA is among buyers (one row).
-- Reads: gold.ca_acheteurs.
--
-- gini = SUM((2i - n - 1) * x_i) / (n * SUM(x)), buyers' CA sorted ascending, i from 1;
-- part_ca_top20 = CA share of the top CEIL(0.2 n) buyers;
-- part_clients_80pct = smallest share of buyers, largest first, whose CA reaches 80 % of total.
-- Without any buyer: nb_clients 0 and the three measures NULL.
--
-- serve: bounded

SELECT
    COALESCE(MAX(nb_clients), 0)                                           AS nb_clients,
    SUM((2.0 * rang_asc - nb_clients - 1) * ca) / (MAX(nb_clients) * MAX(ca_total)) AS gini,
    SUM(CASE WHEN rang_desc <= CEIL(0.2 * nb_clients) THEN ca ELSE 0 END) / MAX(ca_total)
                                                                           AS part_ca_top20,
    CAST(MIN(CASE WHEN ca_cumule_desc >= 0.8 * ca_total THEN rang_desc END) AS DOUBLE)
        / MAX(nb_clients)                                                  AS part_clients_80pct
FROM gold.ca_acheteurs
