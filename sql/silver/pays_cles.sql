-- materialized: view
--
-- silver.pays_cles: every spelling of a country that Silver accepts (rule C6), lower-cased,
-- with the canonical French name it maps to.
-- Reads: reference.pays (sql/reference/pays.csv).

SELECT lower(code_iso) AS cle, pays FROM reference.pays
UNION
SELECT lower(pays) AS cle, pays FROM reference.pays
UNION
SELECT lower(nom_anglais) AS cle, pays FROM reference.pays
