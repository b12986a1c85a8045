-- gold.cohortes: retention of monthly cohorts (month of first purchase).
-- Reads: gold.activite_mensuelle, gold.parametres.
--
-- One cell per (cohorte, mois_relatif k >= 0) inside the data range (cohort month + k <= last
-- month); clients_actifs: cohort clients with a purchase in month cohorte + k;
-- taux_retention = clients_actifs / taille_cohorte.
--
-- serve: bounded
-- index: cohorte, mois_relatif

WITH tailles AS (
    SELECT cohorte_index, COUNT(*) AS taille_cohorte
    FROM gold.activite_mensuelle
    WHERE mois_index = cohorte_index
    GROUP BY cohorte_index
),

cellules AS (
    SELECT
        t.cohorte_index,
        t.taille_cohorte,
        unnest(generate_series(0, p.dernier_mois_index - t.cohorte_index)) AS mois_relatif
    FROM tailles AS t
    CROSS JOIN gold.parametres AS p
),

actifs AS (
    SELECT cohorte_index, mois_index - cohorte_index AS mois_relatif, COUNT(*) AS clients_actifs
    FROM gold.activite_mensuelle
    GROUP BY cohorte_index, mois_index - cohorte_index
)

SELECT
    make_date(CAST(FLOOR(c.cohorte_index / 12) AS INT), CAST(c.cohorte_index % 12 + 1 AS INT), 1) AS cohorte,
    CAST(c.mois_relatif AS INT)                                            AS mois_relatif,
    c.taille_cohorte,
    COALESCE(a.clients_actifs, 0)                                          AS clients_actifs,
    CAST(COALESCE(a.clients_actifs, 0) AS DOUBLE) / c.taille_cohorte       AS taux_retention
FROM cellules AS c
LEFT JOIN actifs AS a
    ON a.cohorte_index = c.cohorte_index
   AND a.mois_relatif = c.mois_relatif
