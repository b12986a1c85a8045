-- gold.dim_produits: one row per product sold.
-- Reads: silver.achats.
--
-- serve: bounded
-- route: /produits order by ca desc, produit

SELECT
    produit,
    COUNT(*)                                                               AS nb_achats,
    SUM(montant)                                                           AS ca,
    CAST(SUM(montant) AS DOUBLE) / COUNT(*)                                AS prix_moyen,
    COUNT(DISTINCT id_client)                                              AS nb_clients,
    MIN(date_achat)                                                        AS premiere_vente,
    MAX(date_achat)                                                        AS derniere_vente
FROM silver.achats
GROUP BY produit
