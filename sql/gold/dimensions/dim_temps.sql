-- gold.dim_temps: one row per calendar day from the first to the last purchase date.
-- Reads: gold.parametres.
--
-- jour_semaine: 1 = Monday ... 7 = Sunday; semaine_iso: ISO 8601 week number.

WITH jours AS (
    SELECT unnest(generate_series(date_min, date_max, INTERVAL '1' DAY)) AS jour
    FROM gold.parametres
),

attributs AS (
    SELECT
        CAST(jour AS DATE)                                                 AS jour,
        CAST((CAST(date_part('dow', jour) AS INT) + 6) % 7 + 1 AS INT)     AS jour_semaine
    FROM jours
)

SELECT
    jour                                                                   AS "date",
    CAST(date_part('year', jour) AS INT)                                   AS annee,
    CAST(date_part('quarter', jour) AS INT)                                AS trimestre,
    CAST(date_part('month', jour) AS INT)                                  AS mois,
    CAST(date_part('week', jour) AS INT)                                   AS semaine_iso,
    jour_semaine,
    CASE jour_semaine
        WHEN 1 THEN 'lundi'
        WHEN 2 THEN 'mardi'
        WHEN 3 THEN 'mercredi'
        WHEN 4 THEN 'jeudi'
        WHEN 5 THEN 'vendredi'
        WHEN 6 THEN 'samedi'
        ELSE 'dimanche'
    END                                                                    AS nom_jour,
    jour_semaine >= 6                                                      AS est_weekend
FROM attributs
