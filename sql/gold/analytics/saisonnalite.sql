-- gold.saisonnalite: seasonality indices by weekday, calendar month and hour.
-- Reads: gold.fact_ca_jour, gold.dim_temps, gold.calendrier_mois, gold.fact_achats.
--
-- jour_semaine: ca_moyen = mean daily CA of that weekday over the days of dim_temps (days
--   without sales count as 0); indice = ca_moyen / mean daily CA.
-- mois: ca_moyen = mean CA of that calendar month over the months of the data range;
--   indice = ca_moyen / mean monthly CA.
-- heure: ca_moyen = mean daily CA of that hour (CA of the hour / days of dim_temps);
--   indice = CA of the hour / (total CA / 24).
--
-- serve: bounded

WITH jours AS (
    SELECT
        t.jour_semaine,
        t.mois,
        CAST(date_part('year', t."date") AS BIGINT) * 12 + t.mois - 1     AS mois_index,
        CAST(COALESCE(j.ca, 0) AS DOUBLE)                                  AS ca
    FROM gold.dim_temps AS t
    LEFT JOIN gold.fact_ca_jour AS j ON j."date" = t."date"
),

totaux AS (
    SELECT
        SUM(ca)                                                            AS ca_total,
        COUNT(*)                                                           AS nb_jours
    FROM jours
),

par_jour_semaine AS (
    SELECT jour_semaine AS valeur, AVG(ca) AS ca_moyen
    FROM jours
    GROUP BY jour_semaine
),

par_mois_calendaire AS (
    SELECT mois_index, MIN(mois) AS mois, SUM(ca) AS ca
    FROM jours
    GROUP BY mois_index
),

par_mois AS (
    SELECT mois AS valeur, AVG(ca) AS ca_moyen
    FROM par_mois_calendaire
    GROUP BY mois
),

nb_mois AS (
    SELECT COUNT(*) AS nb_mois FROM par_mois_calendaire
),

par_heure AS (
    SELECT heure AS valeur, CAST(SUM(montant) AS DOUBLE) AS ca
    FROM gold.fact_achats
    GROUP BY heure
)

SELECT
    'jour_semaine'                                                         AS dimension,
    CAST(s.valeur AS INT)                                                  AS valeur,
    s.ca_moyen,
    s.ca_moyen / (t.ca_total / t.nb_jours)                                 AS indice
FROM par_jour_semaine AS s
CROSS JOIN totaux AS t

UNION ALL

SELECT
    'mois',
    CAST(m.valeur AS INT),
    m.ca_moyen,
    m.ca_moyen / (t.ca_total / n.nb_mois)
FROM par_mois AS m
CROSS JOIN totaux AS t
CROSS JOIN nb_mois AS n

UNION ALL

SELECT
    'heure',
    CAST(h.valeur AS INT),
    h.ca / t.nb_jours,
    h.ca / (t.ca_total / 24)
FROM par_heure AS h
CROSS JOIN totaux AS t
