-- gold.dim_rfm: RFM scores and segment of every client with at least one purchase.
-- Reads: gold.rfm_par_client.
--
-- recence_jours, frequence and montant as in gold.rfm_par_client.
-- Scores are quintiles (NTILE(5)), ties broken by id_client; 5 is best (most recent, most
-- frequent, largest). Segment from (r_score, f_score) as in the data contract.
--
-- serve: paged
-- index: id_client
-- index: segment, montant desc, id_client

-- Quintiles as NTILE(5) numbers them (the first `reste` buckets hold base + 1 buyers, the others
-- base), computed from ROW_NUMBER: NTILE needs the whole partition in memory (DataFusion 55 hands
-- the next sort every buyer in one batch, 600 MB at SF 100, refused by a 1 GiB pool), where
-- ROW_NUMBER streams out of a sort that spills. Integer division is spelled FLOOR(a / b), which
-- means the same in every engine that runs these files. A score is never NULL (base is 0 only
-- when every rank is below reste * (base + 1)); the COALESCE says so to the planner, so that
-- the published scores stay non-nullable (the API's row schemas, contract/tables.json).
WITH taille AS (
    SELECT
        CAST(FLOOR(COUNT(*) / 5) AS BIGINT)                                AS base,
        COUNT(*) % 5                                                       AS reste
    FROM gold.rfm_par_client
),

rangs AS (
    SELECT
        c.id_client,
        c.recence_jours,
        c.frequence,
        c.montant,
        t.base,
        t.reste,
        ROW_NUMBER() OVER (ORDER BY c.recence_jours DESC, c.id_client) - 1 AS r_rang,
        ROW_NUMBER() OVER (ORDER BY c.frequence, c.id_client) - 1          AS f_rang,
        ROW_NUMBER() OVER (ORDER BY c.montant, c.id_client) - 1            AS m_rang
    FROM gold.rfm_par_client AS c
    CROSS JOIN taille AS t
),

scores AS (
    SELECT
        id_client,
        recence_jours,
        frequence,
        montant,
        COALESCE(CAST(CASE WHEN r_rang < reste * (base + 1)
                           THEN FLOOR(r_rang / (base + 1)) + 1
                           ELSE reste + FLOOR((r_rang - reste * (base + 1)) / NULLIF(base, 0)) + 1
                      END AS INT), 0)                                      AS r_score,
        COALESCE(CAST(CASE WHEN f_rang < reste * (base + 1)
                           THEN FLOOR(f_rang / (base + 1)) + 1
                           ELSE reste + FLOOR((f_rang - reste * (base + 1)) / NULLIF(base, 0)) + 1
                      END AS INT), 0)                                      AS f_score,
        COALESCE(CAST(CASE WHEN m_rang < reste * (base + 1)
                           THEN FLOOR(m_rang / (base + 1)) + 1
                           ELSE reste + FLOOR((m_rang - reste * (base + 1)) / NULLIF(base, 0)) + 1
                      END AS INT), 0)                                      AS m_score
    FROM rangs
)

SELECT
    id_client,
    recence_jours,
    frequence,
    montant,
    r_score,
    f_score,
    m_score,
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
