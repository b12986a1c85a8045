-- materialized: staging
--
-- gold.calendrier_mois: every month from the first to the last month with purchases, with the
-- date of its first day.
-- Reads: gold.parametres.

SELECT
    mois_index,
    make_date(CAST(FLOOR(mois_index / 12) AS INT), CAST(mois_index % 12 + 1 AS INT), 1) AS mois
FROM (
    SELECT unnest(generate_series(premier_mois_index, dernier_mois_index)) AS mois_index
    FROM gold.parametres
) AS m
