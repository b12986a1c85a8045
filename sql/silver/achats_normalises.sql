-- materialized: staging
--
-- silver.achats_normalises: every Bronze purchase row, parsed and normalised (rules A3-A13),
-- with its raw values, its source file and line, and the quarantine reason if it has one.
-- Reads: bronze.achats, reference.produits.
-- Settings: {{ as_of }} (A9), {{ seuil_montant_aberrant }} (A6).

WITH parsed AS (
    SELECT
        b._fichier                                  AS fichier_source,
        b._ligne                                    AS ligne_source,
        b._erreur                                   AS erreur_bronze,
        b.id_achat                                  AS id_achat_brut,
        b.id_client                                 AS id_client_brut,
        b.date_achat                                AS date_achat_brute,
        b.montant                                   AS montant_brut,
        b.produit                                   AS produit_brut,
        parse_id(b.id_achat)                        AS id_achat,
        parse_id(b.id_client)                       AS id_client,
        -- A7: TIMESTAMP from every accepted format (epoch seconds read as UTC).
        parse_timestamp_multi(b.date_achat)         AS date_achat,
        -- A3: DECIMAL(12, 2) from 12,50 / 12,50 € / €12.50 / 12.5.
        parse_amount(b.montant)                     AS montant,
        -- A12: catalogue spelling when the trimmed name matches one ignoring case.
        NULLIF(squash_spaces(b.produit), '')        AS produit_nettoye,
        p.produit                                   AS produit_catalogue
    -- The catalogue on the left: a hash join builds its left side in memory, and the
    -- reference CSV has no statistics for the planner to swap the sides by. Written as
    -- `bronze.achats LEFT JOIN reference.produits`, DataFusion built a table of every purchase
    -- (739 MB at SF 10) to look up 45 products.
    FROM reference.produits AS p
    RIGHT JOIN bronze.achats AS b
        ON lower(p.produit) = lower(squash_spaces(b.produit))
)

SELECT
    fichier_source,
    ligne_source,
    id_achat_brut,
    id_client_brut,
    date_achat_brute,
    montant_brut,
    produit_brut,
    id_achat,
    id_client,
    date_achat,
    montant,
    COALESCE(produit_catalogue, produit_nettoye) AS produit,
    produit_catalogue IS NOT NULL                 AS produit_au_catalogue,
    CASE
        WHEN erreur_bronze IS NOT NULL THEN 'ligne_malformee'
        WHEN id_achat IS NULL THEN 'id_achat_invalide'                           -- A13
        WHEN montant IS NULL THEN 'montant_invalide'                             -- A4
        WHEN montant <= 0 THEN 'montant_non_positif'                             -- A5
        WHEN montant > {{ seuil_montant_aberrant }} THEN 'montant_aberrant'      -- A6
        WHEN date_achat IS NULL THEN 'date_invalide'                             -- A8
        WHEN date_achat > {{ as_of }} THEN 'date_future'                         -- A9
        WHEN produit_nettoye IS NULL THEN 'produit_manquant'                     -- A11
    END AS raison
FROM parsed
