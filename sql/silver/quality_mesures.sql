-- materialized: staging
--
-- silver.quality_mesures: every count the quality report needs, in one row, each computed once.
-- Reads: silver.clients_normalises, silver.clients, silver.achats_normalises,
--        silver.achats_dedupliques, silver.achats, silver.quarantine.
--
-- Counts of fixed and invalid values are taken over the rows that passed the quarantine
-- (raison IS NULL), before de-duplication.

WITH clients_counts AS (
    SELECT
        COUNT(*)                                                            AS lignes,
        SUM(CASE WHEN raison IS NULL THEN 1 ELSE 0 END)                     AS retenues,
        SUM(CASE WHEN raison IS NOT NULL THEN 1 ELSE 0 END)                 AS quarantaine,
        SUM(CASE WHEN raison IS NULL AND email IS NOT NULL
                  AND email_brut <> email THEN 1 ELSE 0 END)                AS email_corrige,
        SUM(CASE WHEN raison IS NULL AND email_brut IS NOT NULL
                  AND email IS NULL THEN 1 ELSE 0 END)                      AS email_invalide,
        SUM(CASE WHEN raison IS NULL AND email_brut IS NULL THEN 1 ELSE 0 END) AS email_manquant,
        SUM(CASE WHEN raison IS NULL AND date_inscription IS NOT NULL
                  AND NOT is_canonical_date(date_inscription_brute) THEN 1 ELSE 0 END) AS date_corrigee,
        SUM(CASE WHEN raison IS NULL AND date_inscription_brute IS NOT NULL
                  AND date_inscription IS NULL THEN 1 ELSE 0 END)           AS date_invalide,
        SUM(CASE WHEN raison IS NULL AND date_inscription_brute IS NULL THEN 1 ELSE 0 END) AS date_manquante,
        SUM(CASE WHEN raison IS NULL AND pays IS NOT NULL
                  AND pays_brut <> pays THEN 1 ELSE 0 END)                  AS pays_corrige,
        SUM(CASE WHEN raison IS NULL AND pays_brut IS NOT NULL
                  AND pays IS NULL THEN 1 ELSE 0 END)                       AS pays_inconnu,
        SUM(CASE WHEN raison IS NULL AND pays_brut IS NULL THEN 1 ELSE 0 END) AS pays_manquant,
        SUM(CASE WHEN raison IS NULL AND nom IS NOT NULL
                  AND nom_brut <> nom THEN 1 ELSE 0 END)                    AS nom_corrige,
        SUM(CASE WHEN raison IS NULL AND nom IS NULL THEN 1 ELSE 0 END)     AS nom_manquant
    FROM silver.clients_normalises
),

clients_distincts AS (
    SELECT COUNT(*) AS lignes_distinctes
    FROM (
        SELECT DISTINCT id_client, nom, email, date_inscription, pays
        FROM silver.clients_normalises
        WHERE raison IS NULL
    ) AS d
),

clients_ids AS (
    SELECT COUNT(*) AS ids FROM silver.clients
),

achats_counts AS (
    SELECT
        COUNT(*)                                                            AS lignes,
        SUM(CASE WHEN raison IS NULL THEN 1 ELSE 0 END)                     AS retenues,
        SUM(CASE WHEN raison IS NULL AND NOT is_canonical_amount(montant_brut)
                 THEN 1 ELSE 0 END)                                         AS montant_corrige,
        SUM(CASE WHEN raison IS NULL AND NOT is_canonical_timestamp(date_achat_brute)
                 THEN 1 ELSE 0 END)                                         AS date_corrigee,
        SUM(CASE WHEN raison IS NULL AND produit_au_catalogue
                  AND produit_brut <> produit THEN 1 ELSE 0 END)            AS produit_corrige,
        SUM(CASE WHEN raison IS NULL AND NOT produit_au_catalogue
                 THEN 1 ELSE 0 END)                                         AS produit_hors_catalogue
    FROM silver.achats_normalises
),

achats_distincts AS (
    SELECT COUNT(*) AS lignes_distinctes
    FROM (
        SELECT DISTINCT id_achat, id_client, date_achat, montant, produit
        FROM silver.achats_normalises
        WHERE raison IS NULL
    ) AS d
),

achats_ids AS (
    SELECT COUNT(*) AS ids FROM silver.achats_dedupliques
),

achats_sortie AS (
    SELECT COUNT(*) AS sortie FROM silver.achats
),

-- A14: purchases (day) before the client's registration date.
achats_avant_inscription AS (
    SELECT COUNT(*) AS avant_inscription
    FROM silver.achats AS a
    JOIN silver.clients AS c
        ON c.id_client = a.id_client
    WHERE CAST(a.date_achat AS DATE) < c.date_inscription
),

achats_quarantaine AS (
    SELECT COUNT(*) AS quarantaine FROM silver.quarantine WHERE entite = 'achats'
)

SELECT
    cc.lignes                   AS clients_lignes,
    cc.retenues                 AS clients_retenues,
    cc.quarantaine              AS clients_quarantaine,
    cc.email_corrige            AS clients_email_corrige,
    cc.email_invalide           AS clients_email_invalide,
    cc.email_manquant           AS clients_email_manquant,
    cc.date_corrigee            AS clients_date_corrigee,
    cc.date_invalide            AS clients_date_invalide,
    cc.date_manquante           AS clients_date_manquante,
    cc.pays_corrige             AS clients_pays_corrige,
    cc.pays_inconnu             AS clients_pays_inconnu,
    cc.pays_manquant            AS clients_pays_manquant,
    cc.nom_corrige              AS clients_nom_corrige,
    cc.nom_manquant             AS clients_nom_manquant,
    cd.lignes_distinctes        AS clients_lignes_distinctes,
    ci.ids                      AS clients_ids,
    ac.lignes                   AS achats_lignes,
    ac.retenues                 AS achats_retenues,
    ac.montant_corrige          AS achats_montant_corrige,
    ac.date_corrigee            AS achats_date_corrigee,
    ac.produit_corrige          AS achats_produit_corrige,
    ac.produit_hors_catalogue   AS achats_produit_hors_catalogue,
    ad.lignes_distinctes        AS achats_lignes_distinctes,
    ai.ids                      AS achats_ids,
    aso.sortie                  AS achats_sortie,
    aa.avant_inscription        AS achats_avant_inscription,
    aq.quarantaine              AS achats_quarantaine
FROM clients_counts AS cc
CROSS JOIN clients_distincts AS cd
CROSS JOIN clients_ids AS ci
CROSS JOIN achats_counts AS ac
CROSS JOIN achats_distincts AS ad
CROSS JOIN achats_ids AS ai
CROSS JOIN achats_sortie AS aso
CROSS JOIN achats_avant_inscription AS aa
CROSS JOIN achats_quarantaine AS aq
