-- gold.kpi_clv: customer lifetime value of every buyer.
-- Reads: silver.achats, gold.parametres.
--
-- anciennete_jours = ref_date - date of the first purchase;
-- frequence_mensuelle = nb_achats / GREATEST(1, anciennete_jours / 30.4375);
-- clv_historique = ca_total; clv_12m = panier_moyen * frequence_mensuelle * 12.
--
-- serve: paged
-- index: id_client
-- index: clv_12m desc, id_client

WITH par_client AS (
    SELECT
        a.id_client,
        SUM(a.montant)                                                     AS ca_total,
        COUNT(*)                                                           AS nb_achats,
        CAST(SUM(a.montant) AS DOUBLE) / COUNT(*)                          AS panier_moyen,
        jours_entre(p.ref_date, CAST(MIN(a.date_achat) AS DATE))           AS anciennete_jours
    FROM silver.achats AS a
    CROSS JOIN gold.parametres AS p
    GROUP BY a.id_client, p.ref_date
),

frequences AS (
    SELECT
        *,
        CAST(nb_achats AS DOUBLE)
            / GREATEST(1.0, CAST(anciennete_jours AS DOUBLE) / 30.4375)    AS frequence_mensuelle
    FROM par_client
)

SELECT
    id_client,
    ca_total,
    nb_achats,
    panier_moyen,
    anciennete_jours,
    frequence_mensuelle,
    ca_total                                                               AS clv_historique,
    panier_moyen * frequence_mensuelle * 12                                AS clv_12m
FROM frequences
