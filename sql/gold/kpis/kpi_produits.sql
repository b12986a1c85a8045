-- gold.kpi_produits: performance of every product sold.
-- Reads: silver.achats, gold.parametres.
--
-- part_ca: share of total CA; rang_ca: RANK by CA descending, then product name;
-- ca_dernier_mois / ca_mois_precedent: CA in the last month with purchases and the month before
-- (0 without sales); croissance_mom = (last - previous) / previous, NULL when previous is 0.
--
-- serve: bounded
-- route: /kpis/produits order by rang_ca, produit

WITH ventes AS (
    SELECT
        a.produit,
        a.id_client,
        a.montant,
        CAST(date_part('year', a.date_achat) AS BIGINT) * 12
            + CAST(date_part('month', a.date_achat) AS BIGINT) - 1         AS mois_index,
        p.dernier_mois_index
    FROM silver.achats AS a
    CROSS JOIN gold.parametres AS p
),

-- One row per (product, client): nb_clients counted from it spills past the memory pool, where
-- COUNT(DISTINCT id_client) kept a set of clients per product in memory.
par_produit_client AS (
    SELECT
        produit,
        id_client,
        SUM(montant)                                                       AS ca,
        COUNT(*)                                                           AS nb_achats,
        SUM(CASE WHEN mois_index = dernier_mois_index
                 THEN montant ELSE CAST(0 AS DECIMAL(12, 2)) END)          AS ca_dernier_mois,
        SUM(CASE WHEN mois_index = dernier_mois_index - 1
                 THEN montant ELSE CAST(0 AS DECIMAL(12, 2)) END)          AS ca_mois_precedent
    FROM ventes
    GROUP BY produit, id_client
),

par_produit AS (
    SELECT
        produit,
        CAST(SUM(ca) AS DECIMAL(22, 2))                                    AS ca,
        COALESCE(CAST(SUM(nb_achats) AS BIGINT), 0)                        AS nb_achats,
        COUNT(id_client)                                                   AS nb_clients,
        CAST(SUM(ca_dernier_mois) AS DECIMAL(22, 2))                       AS ca_dernier_mois,
        CAST(SUM(ca_mois_precedent) AS DECIMAL(22, 2))                     AS ca_mois_precedent
    FROM par_produit_client
    GROUP BY produit
)

SELECT
    produit,
    ca,
    nb_achats,
    nb_clients,
    CAST(ca AS DOUBLE) / CAST(SUM(ca) OVER () AS DOUBLE)                   AS part_ca,
    CAST(RANK() OVER (ORDER BY ca DESC, produit) AS INT)                   AS rang_ca,
    ca_dernier_mois,
    ca_mois_precedent,
    CASE WHEN ca_mois_precedent <> 0
         THEN CAST(ca_dernier_mois - ca_mois_precedent AS DOUBLE)
              / CAST(ca_mois_precedent AS DOUBLE) END                      AS croissance_mom
FROM par_produit
