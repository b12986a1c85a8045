-- silver.quarantine: every rejected row with its raw values, its reason, its source file and line.
-- Reads: silver.clients_normalises, silver.achats_normalises, silver.achats_dedupliques,
--        silver.clients.
--
-- Raw values stay text. Columns of the other entity are NULL.
--
-- serve: paged
-- index: entite, fichier_source, ligne_source
-- index: entite, raison, fichier_source, ligne_source
-- index: raison, entite, fichier_source, ligne_source

SELECT
    'clients'                    AS entite,
    raison,
    fichier_source,
    ligne_source,
    id_client_brut               AS id_client,
    nom_brut                     AS nom,
    email_brut                   AS email,
    date_inscription_brute       AS date_inscription,
    pays_brut                    AS pays,
    CAST(NULL AS VARCHAR)        AS id_achat,
    CAST(NULL AS VARCHAR)        AS date_achat,
    CAST(NULL AS VARCHAR)        AS montant,
    CAST(NULL AS VARCHAR)        AS produit
FROM silver.clients_normalises
WHERE raison IS NOT NULL

UNION ALL

SELECT
    'achats'                     AS entite,
    raison,
    fichier_source,
    ligne_source,
    id_client_brut               AS id_client,
    CAST(NULL AS VARCHAR)        AS nom,
    CAST(NULL AS VARCHAR)        AS email,
    CAST(NULL AS VARCHAR)        AS date_inscription,
    CAST(NULL AS VARCHAR)        AS pays,
    id_achat_brut                AS id_achat,
    date_achat_brute             AS date_achat,
    montant_brut                 AS montant,
    produit_brut                 AS produit
FROM silver.achats_normalises
WHERE raison IS NOT NULL

UNION ALL

-- A10: the client is not in silver.clients (a NULL id_client never matches).
SELECT
    'achats'                     AS entite,
    'client_inconnu'             AS raison,
    fichier_source,
    ligne_source,
    id_client_brut               AS id_client,
    CAST(NULL AS VARCHAR)        AS nom,
    CAST(NULL AS VARCHAR)        AS email,
    CAST(NULL AS VARCHAR)        AS date_inscription,
    CAST(NULL AS VARCHAR)        AS pays,
    id_achat_brut                AS id_achat,
    date_achat_brute             AS date_achat,
    montant_brut                 AS montant,
    produit_brut                 AS produit
FROM silver.achats_dedupliques AS a
WHERE NOT EXISTS (
    SELECT 1 FROM silver.clients AS c WHERE c.id_client = a.id_client
)
