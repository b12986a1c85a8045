-- materialized: staging
--
-- gold.rfm_par_client: recency, frequency and amount of every buyer, the input of the RFM scores
-- (gold.dim_rfm), of the concentration ranks (gold.ca_acheteurs) and of the headline counts
-- (gold.kpi_globaux): the purchases are aggregated per client once, not once per reader.
-- Reads: silver.achats, gold.parametres.
--
-- recence_jours = ref_date - date of the last purchase; frequence = purchases; montant = sum.

SELECT
    a.id_client,
    jours_entre(p.ref_date, CAST(MAX(a.date_achat) AS DATE))               AS recence_jours,
    COUNT(*)                                                               AS frequence,
    SUM(a.montant)                                                         AS montant
FROM silver.achats AS a
CROSS JOIN gold.parametres AS p
GROUP BY a.id_client, p.ref_date
