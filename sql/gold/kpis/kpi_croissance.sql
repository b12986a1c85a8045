-- gold.kpi_croissance: month-over-month and year-over-year growth of CA.
-- Reads: gold.calendrier_mois, silver.achats.
--
-- Every month of the data range (0 CA without sales). ca_mois_precedent / ca_annee_precedente
-- are NULL outside the data range; growth is NULL when its base is NULL or 0.
--
-- serve: bounded
-- route: /kpis/croissance order by mois

WITH ca_mois AS (
    SELECT
        CAST(date_part('year', date_achat) AS BIGINT) * 12
            + CAST(date_part('month', date_achat) AS BIGINT) - 1           AS mois_index,
        SUM(montant)                                                       AS ca
    FROM silver.achats
    GROUP BY 1
),

serie AS (
    SELECT
        c.mois_index,
        c.mois,
        COALESCE(v.ca, CAST(0 AS DECIMAL(22, 2)))                          AS ca
    FROM gold.calendrier_mois AS c
    LEFT JOIN ca_mois AS v ON v.mois_index = c.mois_index
)

SELECT
    s.mois,
    s.ca,
    precedent.ca                                                           AS ca_mois_precedent,
    CASE WHEN precedent.ca <> 0
         THEN CAST(s.ca - precedent.ca AS DOUBLE) / CAST(precedent.ca AS DOUBLE) END AS croissance_mom,
    annee_precedente.ca                                                    AS ca_annee_precedente,
    CASE WHEN annee_precedente.ca <> 0
         THEN CAST(s.ca - annee_precedente.ca AS DOUBLE)
              / CAST(annee_precedente.ca AS DOUBLE) END                    AS croissance_yoy
FROM serie AS s
LEFT JOIN serie AS precedent ON precedent.mois_index = s.mois_index - 1
LEFT JOIN serie AS annee_precedente ON annee_precedente.mois_index = s.mois_index - 12
