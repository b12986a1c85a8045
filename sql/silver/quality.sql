-- silver.quality: the quality report, one row per check.
-- Reads: silver.quality_mesures (every count, one row), silver.quarantine.
-- Settings: {{ seuil_quarantaine }} (blocking), {{ seuil_completude }}, {{ seuil_coherence }}.
--
-- Columns: "table", colonne, dimension (completude | unicite | validite | coherence | volume),
-- controle, observe (rows examined), nb_echecs, pct_echecs (= nb_echecs / observe), seuil (largest
-- pct_echecs allowed; NULL for a count without threshold, such as values Silver fixed),
-- bloquant (a failed blocking check stops the run before publishing), ok.
-- Volume rows give rows in / out and quarantined rows per reason.
--
-- serve: bounded
-- route: /qualite order by table, dimension, controle

WITH definitions ("table", colonne, dimension, controle, seuil, bloquant) AS (
    VALUES
        ('clients', '*',                'volume',     'lignes_entree',           CAST(NULL AS DOUBLE), FALSE),
        ('clients', '*',                'volume',     'lignes_sortie',           NULL, FALSE),
        ('clients', '*',                'validite',   'taux_quarantaine',        {{ seuil_quarantaine }}, TRUE),
        ('clients', '*',                'unicite',    'doublons_exacts',         NULL, FALSE),
        ('clients', 'id_client',        'unicite',    'versions_anterieures',    NULL, FALSE),
        ('clients', 'email',            'validite',   'email_corrige',           NULL, FALSE),
        ('clients', 'email',            'validite',   'email_invalide',          NULL, FALSE),
        ('clients', 'email',            'completude', 'email_manquant',          {{ seuil_completude }}, FALSE),
        ('clients', 'date_inscription', 'validite',   'date_corrigee',           NULL, FALSE),
        ('clients', 'date_inscription', 'validite',   'date_invalide',           NULL, FALSE),
        ('clients', 'date_inscription', 'completude', 'date_manquante',          {{ seuil_completude }}, FALSE),
        ('clients', 'pays',             'validite',   'pays_corrige',            NULL, FALSE),
        ('clients', 'pays',             'validite',   'pays_inconnu',            NULL, FALSE),
        ('clients', 'pays',             'completude', 'pays_manquant',           {{ seuil_completude }}, FALSE),
        ('clients', 'nom',              'validite',   'nom_corrige',             NULL, FALSE),
        ('clients', 'nom',              'completude', 'nom_manquant',            {{ seuil_completude }}, FALSE),
        ('achats',  '*',                'volume',     'lignes_entree',           NULL, FALSE),
        ('achats',  '*',                'volume',     'lignes_sortie',           NULL, FALSE),
        ('achats',  '*',                'validite',   'taux_quarantaine',        {{ seuil_quarantaine }}, TRUE),
        ('achats',  '*',                'unicite',    'doublons_exacts',         NULL, FALSE),
        ('achats',  'id_achat',         'unicite',    'versions_anterieures',    NULL, FALSE),
        ('achats',  'montant',          'validite',   'montant_corrige',         NULL, FALSE),
        ('achats',  'date_achat',       'validite',   'date_corrigee',           NULL, FALSE),
        ('achats',  'produit',          'validite',   'produit_corrige',         NULL, FALSE),
        ('achats',  'produit',          'validite',   'produit_hors_catalogue',  NULL, FALSE),
        ('achats',  'date_achat',       'coherence',  'achat_avant_inscription', {{ seuil_coherence }}, FALSE)
),

-- (observe, nb_echecs) of each check, picked from the one-row measures.
checks AS (
    SELECT
        d."table",
        d.colonne,
        d.dimension,
        d.controle,
        CASE d."table" || '.' || d.controle
            WHEN 'clients.lignes_entree'           THEN m.clients_lignes
            WHEN 'clients.lignes_sortie'           THEN m.clients_ids
            WHEN 'clients.taux_quarantaine'        THEN m.clients_lignes
            WHEN 'clients.doublons_exacts'         THEN m.clients_retenues
            WHEN 'clients.versions_anterieures'    THEN m.clients_lignes_distinctes
            WHEN 'achats.lignes_entree'            THEN m.achats_lignes
            WHEN 'achats.lignes_sortie'            THEN m.achats_sortie
            WHEN 'achats.taux_quarantaine'         THEN m.achats_lignes
            WHEN 'achats.doublons_exacts'          THEN m.achats_retenues
            WHEN 'achats.versions_anterieures'     THEN m.achats_lignes_distinctes
            WHEN 'achats.achat_avant_inscription'  THEN m.achats_sortie
            WHEN 'clients.' || d.controle          THEN m.clients_retenues
            ELSE m.achats_retenues
        END AS observe,
        CASE d."table" || '.' || d.controle
            WHEN 'clients.taux_quarantaine'        THEN m.clients_quarantaine
            WHEN 'clients.doublons_exacts'         THEN m.clients_retenues - m.clients_lignes_distinctes
            WHEN 'clients.versions_anterieures'    THEN m.clients_lignes_distinctes - m.clients_ids
            WHEN 'clients.email_corrige'           THEN m.clients_email_corrige
            WHEN 'clients.email_invalide'          THEN m.clients_email_invalide
            -- Missing values include those set to NULL because they were invalid.
            WHEN 'clients.email_manquant'          THEN m.clients_email_manquant + m.clients_email_invalide
            WHEN 'clients.date_corrigee'           THEN m.clients_date_corrigee
            WHEN 'clients.date_invalide'           THEN m.clients_date_invalide
            WHEN 'clients.date_manquante'          THEN m.clients_date_manquante + m.clients_date_invalide
            WHEN 'clients.pays_corrige'            THEN m.clients_pays_corrige
            WHEN 'clients.pays_inconnu'            THEN m.clients_pays_inconnu
            WHEN 'clients.pays_manquant'           THEN m.clients_pays_manquant + m.clients_pays_inconnu
            WHEN 'clients.nom_corrige'             THEN m.clients_nom_corrige
            WHEN 'clients.nom_manquant'            THEN m.clients_nom_manquant
            WHEN 'achats.taux_quarantaine'         THEN m.achats_quarantaine
            WHEN 'achats.doublons_exacts'          THEN m.achats_retenues - m.achats_lignes_distinctes
            WHEN 'achats.versions_anterieures'     THEN m.achats_lignes_distinctes - m.achats_ids
            WHEN 'achats.montant_corrige'          THEN m.achats_montant_corrige
            WHEN 'achats.date_corrigee'            THEN m.achats_date_corrigee
            WHEN 'achats.produit_corrige'          THEN m.achats_produit_corrige
            WHEN 'achats.produit_hors_catalogue'   THEN m.achats_produit_hors_catalogue
            WHEN 'achats.achat_avant_inscription'  THEN m.achats_avant_inscription
            ELSE 0
        END AS nb_echecs,
        d.seuil,
        d.bloquant
    FROM definitions AS d
    CROSS JOIN silver.quality_mesures AS m
),

raisons AS (
    SELECT entite, raison, COUNT(*) AS lignes
    FROM silver.quarantine
    GROUP BY entite, raison
),

toutes_raisons (entite, raison) AS (
    VALUES
        ('clients', 'ligne_malformee'),
        ('clients', 'id_client_invalide'),
        ('achats', 'ligne_malformee'),
        ('achats', 'id_achat_invalide'),
        ('achats', 'montant_invalide'),
        ('achats', 'montant_non_positif'),
        ('achats', 'montant_aberrant'),
        ('achats', 'date_invalide'),
        ('achats', 'date_future'),
        ('achats', 'produit_manquant'),
        ('achats', 'client_inconnu')
),

-- Quarantined rows per reason, every reason listed even when zero.
volumes_quarantaine AS (
    SELECT
        t.entite                                    AS "table",
        '*'                                         AS colonne,
        'volume'                                    AS dimension,
        'quarantaine_' || t.raison                  AS controle,
        CASE WHEN t.entite = 'clients' THEN m.clients_lignes ELSE m.achats_lignes END AS observe,
        COALESCE(r.lignes, 0)                       AS nb_echecs,
        CAST(NULL AS DOUBLE)                        AS seuil,
        FALSE                                       AS bloquant
    FROM toutes_raisons AS t
    LEFT JOIN raisons AS r
        ON r.entite = t.entite AND r.raison = t.raison
    CROSS JOIN silver.quality_mesures AS m
),

-- Sums over no row are NULL: an empty entity counts 0 everywhere.
all_checks AS (
    SELECT
        "table",
        colonne,
        dimension,
        controle,
        COALESCE(observe, 0)                        AS observe,
        COALESCE(nb_echecs, 0)                      AS nb_echecs,
        seuil,
        bloquant
    FROM checks
    UNION ALL
    SELECT * FROM volumes_quarantaine
)

SELECT
    "table",
    colonne,
    dimension,
    controle,
    CAST(observe AS BIGINT)                                             AS observe,
    CAST(nb_echecs AS BIGINT)                                           AS nb_echecs,
    CASE WHEN observe > 0 THEN CAST(nb_echecs AS DOUBLE) / observe ELSE 0.0 END AS pct_echecs,
    CAST(seuil AS DOUBLE)                                               AS seuil,
    bloquant,
    seuil IS NULL
        OR (CASE WHEN observe > 0 THEN CAST(nb_echecs AS DOUBLE) / observe ELSE 0.0 END) <= seuil
                                                                        AS ok
FROM all_checks
