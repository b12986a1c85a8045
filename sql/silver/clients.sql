-- silver.clients: one row per client, typed and cleaned.
-- Reads: silver.clients_normalises.
--
-- Rows without a quarantine reason, de-duplicated: an exact duplicate (C1) or an older version of
-- the same id_client (C2) is dropped; the kept version is the last one delivered, i.e. the
-- greatest (source file name, line number).

SELECT
    id_client,
    nom,
    email,
    date_inscription,
    pays
FROM (
    SELECT
        id_client,
        nom,
        email,
        date_inscription,
        pays,
        ROW_NUMBER() OVER (
            PARTITION BY id_client
            ORDER BY fichier_source DESC, ligne_source DESC
        ) AS version
    FROM silver.clients_normalises
    WHERE raison IS NULL
) AS versions
WHERE version = 1
