-- gold.kpi_retention: monthly retention, from the second month of data.
-- Reads: gold.calendrier_mois, gold.activite_mensuelle, gold.parametres.
--
-- clients_retenus: active in the month and in the month before;
-- taux_retention = clients_retenus / clients_actifs_mois_precedent (NULL when no base);
-- taux_churn = 1 - taux_retention.
--
-- serve: bounded
-- route: /kpis/retention order by mois

WITH actifs AS (
    SELECT mois_index, COUNT(*) AS clients_actifs
    FROM gold.activite_mensuelle
    GROUP BY mois_index
),

nouveaux AS (
    SELECT mois_index, COUNT(*) AS nouveaux_clients
    FROM gold.activite_mensuelle
    WHERE mois_index = cohorte_index
    GROUP BY mois_index
),

retenus AS (
    SELECT m.mois_index, COUNT(*) AS clients_retenus
    FROM gold.activite_mensuelle AS m
    JOIN gold.activite_mensuelle AS precedent
        ON precedent.id_client = m.id_client
       AND precedent.mois_index = m.mois_index - 1
    GROUP BY m.mois_index
),

mois AS (
    SELECT
        c.mois,
        COALESCE(a.clients_actifs, 0)                                      AS clients_actifs,
        COALESCE(p.clients_actifs, 0)                                      AS clients_actifs_mois_precedent,
        COALESCE(r.clients_retenus, 0)                                     AS clients_retenus,
        COALESCE(n.nouveaux_clients, 0)                                    AS nouveaux_clients
    FROM gold.calendrier_mois AS c
    LEFT JOIN actifs AS a ON a.mois_index = c.mois_index
    LEFT JOIN actifs AS p ON p.mois_index = c.mois_index - 1
    LEFT JOIN retenus AS r ON r.mois_index = c.mois_index
    LEFT JOIN nouveaux AS n ON n.mois_index = c.mois_index
    CROSS JOIN gold.parametres AS p
    WHERE c.mois_index > p.premier_mois_index
)

SELECT
    mois,
    clients_actifs,
    clients_actifs_mois_precedent,
    clients_retenus,
    nouveaux_clients,
    CASE WHEN clients_actifs_mois_precedent > 0
         THEN CAST(clients_retenus AS DOUBLE) / clients_actifs_mois_precedent END AS taux_retention,
    CASE WHEN clients_actifs_mois_precedent > 0
         THEN 1.0 - CAST(clients_retenus AS DOUBLE) / clients_actifs_mois_precedent END AS taux_churn
FROM mois
