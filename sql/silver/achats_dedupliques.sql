-- materialized: staging
--
-- silver.achats_dedupliques: purchases that passed the row-level rules, de-duplicated: an exact
-- duplicate (A1) or an older version of the same id_achat (A2) is dropped; the kept version is
-- the greatest (source file name, line number). Cross-table rules come after (silver.achats).
-- Reads: silver.achats_normalises.

SELECT *
FROM (
    SELECT
        n.*,
        ROW_NUMBER() OVER (
            PARTITION BY id_achat
            ORDER BY fichier_source DESC, ligne_source DESC
        ) AS version
    FROM silver.achats_normalises AS n
    WHERE raison IS NULL
) AS versions
WHERE version = 1
