-- gold.fact_achats: one row per purchase, with the client's country and calendar attributes.
-- Reads: silver.achats, silver.clients.
--
-- jour_semaine: 1 = Monday ... 7 = Sunday (ISO).
--
-- serve: paged
-- index: date_achat, id_achat
-- index: montant, id_achat
-- index: id_client, date_achat, id_achat
-- index: pays, date_achat, id_achat
-- index: produit, date_achat, id_achat

SELECT
    a.id_achat,
    a.id_client,
    a.date_achat,
    a.montant,
    a.produit,
    c.pays,
    CAST(a.date_achat AS DATE)                                             AS "date",
    CAST(date_part('hour', a.date_achat) AS INT)                           AS heure,
    CAST(date_part('year', a.date_achat) AS INT)                           AS annee,
    CAST(date_part('month', a.date_achat) AS INT)                          AS mois,
    CAST((CAST(date_part('dow', a.date_achat) AS INT) + 6) % 7 + 1 AS INT) AS jour_semaine
FROM silver.achats AS a
JOIN silver.clients AS c
    ON c.id_client = a.id_client
