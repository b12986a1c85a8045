-- gold.dim_produits: one row per product sold.
-- Reads: silver.achats.
--
-- serve: bounded
-- route: /produits order by ca desc, produit
--
-- nb_clients is counted from one row per (produit, client), which spills past the memory pool:
-- COUNT(DISTINCT id_client) keeps a set of clients per product in memory (at SF 100 these sets
-- were refused by a 1 GiB pool). COUNT(id_client) skips a NULL client as COUNT(DISTINCT) did.

WITH par_client AS (
    SELECT
        produit,
        id_client,
        COUNT(*)                                                           AS nb_achats,
        SUM(montant)                                                       AS ca,
        MIN(date_achat)                                                    AS premiere_vente,
        MAX(date_achat)                                                    AS derniere_vente
    FROM silver.achats
    GROUP BY produit, id_client
)

SELECT
    produit,
    COALESCE(CAST(SUM(nb_achats) AS BIGINT), 0)                            AS nb_achats,
    CAST(SUM(ca) AS DECIMAL(22, 2))                                        AS ca,
    CAST(SUM(ca) AS DOUBLE) / SUM(nb_achats)                               AS prix_moyen,
    COUNT(id_client)                                                       AS nb_clients,
    MIN(premiere_vente)                                                    AS premiere_vente,
    MAX(derniere_vente)                                                    AS derniere_vente
FROM par_client
GROUP BY produit
