-- gold.dim_clients: one row per Silver client, with purchase totals
-- (0 purchases, 0 CA and NULL dates for clients who never bought).
-- Reads: silver.clients, silver.achats.
--
-- serve: paged
-- index: id_client
-- index: ca_total desc, id_client
-- index: pays, ca_total desc

WITH totaux AS (
    SELECT
        id_client,
        MIN(date_achat)                                                    AS premier_achat,
        MAX(date_achat)                                                    AS dernier_achat,
        COUNT(*)                                                           AS nb_achats,
        SUM(montant)                                                       AS ca_total
    FROM silver.achats
    GROUP BY id_client
)

SELECT
    c.id_client,
    c.nom,
    c.email,
    c.date_inscription,
    c.pays,
    t.premier_achat,
    t.dernier_achat,
    COALESCE(t.nb_achats, 0)                                               AS nb_achats,
    COALESCE(t.ca_total, CAST(0 AS DECIMAL(22, 2)))                        AS ca_total
FROM silver.clients AS c
LEFT JOIN totaux AS t
    ON t.id_client = c.id_client
