-- gold.dim_rfm: RFM scores and segment of every client with at least one purchase.
-- Reads: silver.achats, gold.parametres.
--
-- recence_jours = ref_date - date of the last purchase; frequence = purchases; montant = sum.
-- Scores are quintiles (NTILE(5)), ties broken by id_client; 5 is best (most recent, most
-- frequent, largest). Segment from (r_score, f_score) as in the data contract.
--
-- serve: paged
-- index: id_client
-- index: segment, montant desc, id_client

WITH par_client AS (
    SELECT
        a.id_client,
        jours_entre(p.ref_date, CAST(MAX(a.date_achat) AS DATE))           AS recence_jours,
        COUNT(*)                                                           AS frequence,
        SUM(a.montant)                                                     AS montant
    FROM silver.achats AS a
    CROSS JOIN gold.parametres AS p
    GROUP BY a.id_client, p.ref_date
),

scores AS (
    SELECT
        id_client,
        recence_jours,
        frequence,
        montant,
        NTILE(5) OVER (ORDER BY recence_jours DESC, id_client)             AS r_score,
        NTILE(5) OVER (ORDER BY frequence, id_client)                      AS f_score,
        NTILE(5) OVER (ORDER BY montant, id_client)                        AS m_score
    FROM par_client
)

SELECT
    id_client,
    recence_jours,
    frequence,
    montant,
    CAST(r_score AS INT)                                                   AS r_score,
    CAST(f_score AS INT)                                                   AS f_score,
    CAST(m_score AS INT)                                                   AS m_score,
    CAST(r_score AS VARCHAR) || CAST(f_score AS VARCHAR) || CAST(m_score AS VARCHAR) AS rfm_code,
    CASE
        WHEN r_score = 5 AND f_score = 1 THEN 'Nouveaux'
        WHEN r_score = 5 AND f_score IN (2, 3) THEN 'Fidèles potentiels'
        WHEN r_score = 5 THEN 'Champions'
        WHEN r_score = 4 AND f_score = 1 THEN 'Prometteurs'
        WHEN r_score = 4 AND f_score IN (2, 3) THEN 'Fidèles potentiels'
        WHEN r_score = 4 THEN 'Fidèles'
        WHEN r_score = 3 AND f_score IN (1, 2) THEN 'Presque endormis'
        WHEN r_score = 3 AND f_score = 3 THEN 'À surveiller'
        WHEN r_score = 3 THEN 'Fidèles'
        WHEN f_score IN (1, 2) THEN 'En hibernation'
        WHEN f_score IN (3, 4) THEN 'À risque'
        ELSE 'À ne pas perdre'
    END                                                                    AS segment
FROM scores
