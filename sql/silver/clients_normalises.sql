-- materialized: staging
--
-- silver.clients_normalises: every Bronze client row, parsed and normalised (rules C3-C8), with
-- its raw values, its source file and line, and the quarantine reason if it has one.
-- Reads: bronze.clients, silver.pays_cles.

WITH parsed AS (
    SELECT
        b._fichier                                AS fichier_source,
        b._ligne                                  AS ligne_source,
        b._erreur                                 AS erreur_bronze,
        b.id_client                               AS id_client_brut,
        b.nom                                     AS nom_brut,
        b.email                                   AS email_brut,
        b.date_inscription                        AS date_inscription_brute,
        b.pays                                    AS pays_brut,
        parse_id(b.id_client)                     AS id_client,
        -- C7: trim and collapse inner runs of spaces.
        NULLIF(squash_spaces(b.nom), '')          AS nom,
        -- C3: trim + lower case, then C4: NULL when the address is invalid.
        lower(trim(b.email))                      AS email_normalise,
        -- C5: DATE from YYYY-MM-DD, DD/MM/YYYY, YYYY/MM/DD or epoch seconds.
        parse_date_multi(b.date_inscription)      AS date_inscription,
        -- C6: canonical French name, NULL when unknown.
        k.pays                                    AS pays
    FROM bronze.clients AS b
    LEFT JOIN silver.pays_cles AS k
        ON k.cle = lower(squash_spaces(b.pays))
)

SELECT
    fichier_source,
    ligne_source,
    id_client_brut,
    nom_brut,
    email_brut,
    date_inscription_brute,
    pays_brut,
    id_client,
    nom,
    CASE WHEN is_valid_email(email_normalise) THEN email_normalise END AS email,
    date_inscription,
    pays,
    CASE
        WHEN erreur_bronze IS NOT NULL THEN 'ligne_malformee'
        -- C8
        WHEN id_client IS NULL THEN 'id_client_invalide'
    END AS raison
FROM parsed
