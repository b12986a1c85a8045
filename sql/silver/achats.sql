-- silver.achats: one row per purchase, typed and cleaned.
-- Reads: silver.achats_dedupliques, silver.clients.
--
-- A10: a purchase whose client is not in silver.clients goes to quarantine instead
-- (see silver.quarantine). A14 (purchase before registration) is kept and counted in
-- silver.quality.

SELECT
    a.id_achat,
    a.id_client,
    a.date_achat,
    a.montant,
    a.produit
FROM silver.achats_dedupliques AS a
WHERE EXISTS (
    SELECT 1 FROM silver.clients AS c WHERE c.id_client = a.id_client
)
