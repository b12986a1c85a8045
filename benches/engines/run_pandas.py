"""Silver + Gold in pandas: the brief's original engine, the same logic as the SQL models written
by hand, one function per table (named as the `sql/` file it mirrors).

Money is kept in whole cents (int64), exact like the SQL's DECIMAL, and written as DECIMAL with
two decimals; ratios and means are floats as in the SQL. The contract's parsing rules are the
vectorised Arrow functions the other Python engines use (contract_rules.py).

Usage: python benches/engines/run_pandas.py --input-lake LAKE --out OUT
"""

from __future__ import annotations

import math
from pathlib import Path

import contract_rules as rules
import engine_io
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

Tables = dict[str, pd.DataFrame]


def rule(name: str, values: pd.Series) -> pd.Series:
    """A contract rule over a text column, as a pandas column with nullable values."""
    function, _ = rules.RULES[name]
    result = function(pa.array(values, type=pa.string(), from_pandas=True))
    return result.to_pandas(types_mapper=_nullable).set_axis(values.index)


def parse_amount_cents(values: pd.Series) -> pd.Series:
    result = rules.parse_amount_cents(
        pa.array(values, type=pa.string(), from_pandas=True)
    )
    return result.to_pandas(types_mapper=_nullable).set_axis(values.index)


def _nullable(arrow_type: pa.DataType) -> object:
    """Nullable pandas dtypes for integers, booleans and text (NaN-free)."""
    return {
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.string(): pd.StringDtype(),
    }.get(arrow_type)


def mois_index(stamps: pd.Series) -> pd.Series:
    """year * 12 + month - 1, the month arithmetic of the SQL."""
    return stamps.dt.year * 12 + stamps.dt.month - 1


def premier_jour(index: pd.Series) -> pd.Series:
    """The first day of month `index`."""
    return pd.to_datetime(
        pd.DataFrame({"year": index // 12, "month": index % 12 + 1, "day": 1})
    )


def ntile(
    order: pd.DataFrame, by: list[str], ascending: list[bool], buckets: int
) -> pd.Series:
    """NTILE(buckets) over the rows sorted by `by`: the first n % buckets tiles get one more row."""
    n = len(order)
    positions = np.empty(n, dtype=np.int64)
    positions[order.sort_values(by, ascending=ascending).index.to_numpy()] = np.arange(
        n
    )
    size, extra = divmod(n, buckets)
    big = extra * (size + 1)
    tile = np.where(
        positions < big,
        positions // (size + 1),
        extra + (positions - big) // max(size, 1),
    )
    return pd.Series(tile + 1, index=order.index)


# ---------------------------------------------------------------- Silver


def pays_cles(pays: pd.DataFrame) -> dict[str, str]:
    """Every accepted spelling of a country, lower-cased → its French name (rule C6)."""
    keys: dict[str, str] = {}
    for column in ("code_iso", "pays", "nom_anglais"):
        keys.update(zip(pays[column].str.lower(), pays["pays"], strict=True))
    return keys


def clients_normalises(bronze: pd.DataFrame, pays: pd.DataFrame) -> pd.DataFrame:
    email = bronze["email"].str.strip(" ").str.lower()
    valid = rule("is_valid_email", email).fillna(False).astype(bool)
    nom = rule("squash_spaces", bronze["nom"])
    out = pd.DataFrame(
        {
            "fichier_source": bronze["_fichier"],
            "ligne_source": bronze["_ligne"],
            "id_client_brut": bronze["id_client"],
            "nom_brut": bronze["nom"],
            "email_brut": bronze["email"],
            "date_inscription_brute": bronze["date_inscription"],
            "pays_brut": bronze["pays"],
            "id_client": rule("parse_id", bronze["id_client"]),
            "nom": nom.mask(nom == ""),
            "email": email.where(valid),
            "date_inscription": rule("parse_date_multi", bronze["date_inscription"]),
            "pays": rule("squash_spaces", bronze["pays"])
            .str.lower()
            .map(pays_cles(pays)),
        }
    )
    out["raison"] = np.select(
        [bronze["_erreur"].notna(), out["id_client"].isna()],
        ["ligne_malformee", "id_client_invalide"],
        default=None,
    )
    return out


def latest_versions(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows without a reason, one per `key`: the greatest (source file, line) (C1-C2, A1-A2)."""
    kept = rows[rows["raison"].isna()]
    kept = kept.sort_values(["fichier_source", "ligne_source"], ascending=False)
    return kept.drop_duplicates(key, keep="first")


def clients(normalised: pd.DataFrame) -> pd.DataFrame:
    return latest_versions(normalised, "id_client")[
        ["id_client", "nom", "email", "date_inscription", "pays"]
    ]


def achats_normalises(
    bronze: pd.DataFrame, produits: pd.DataFrame, settings: dict[str, str]
) -> pd.DataFrame:
    nettoye = rule("squash_spaces", bronze["produit"])
    catalogue = dict(
        zip(produits["produit"].str.lower(), produits["produit"], strict=True)
    )
    au_catalogue = nettoye.str.lower().map(catalogue)
    nettoye = nettoye.mask(nettoye == "")
    out = pd.DataFrame(
        {
            "fichier_source": bronze["_fichier"],
            "ligne_source": bronze["_ligne"],
            "id_achat_brut": bronze["id_achat"],
            "id_client_brut": bronze["id_client"],
            "date_achat_brute": bronze["date_achat"],
            "montant_brut": bronze["montant"],
            "produit_brut": bronze["produit"],
            "id_achat": rule("parse_id", bronze["id_achat"]),
            "id_client": rule("parse_id", bronze["id_client"]),
            "date_achat": rule("parse_timestamp_multi", bronze["date_achat"]),
            "montant": parse_amount_cents(bronze["montant"]),
            "produit": au_catalogue.fillna(nettoye),
            "produit_au_catalogue": au_catalogue.notna(),
        }
    )
    seuil_cents = float(settings["seuil_montant_aberrant"]) * 100
    as_of = pd.Timestamp(settings["as_of"])
    montant = out["montant"]
    out["raison"] = np.select(
        [
            bronze["_erreur"].notna(),
            out["id_achat"].isna(),
            montant.isna(),
            (montant <= 0).fillna(False),
            (montant > seuil_cents).fillna(False),
            out["date_achat"].isna(),
            (out["date_achat"] > as_of).fillna(False),
            nettoye.isna(),
        ],
        [
            "ligne_malformee",
            "id_achat_invalide",
            "montant_invalide",
            "montant_non_positif",
            "montant_aberrant",
            "date_invalide",
            "date_future",
            "produit_manquant",
        ],
        default=None,
    )
    return out


def achats(dedupliques: pd.DataFrame, clients_silver: pd.DataFrame) -> pd.DataFrame:
    known = dedupliques["id_client"].isin(clients_silver["id_client"])
    return dedupliques.loc[
        known, ["id_achat", "id_client", "date_achat", "montant", "produit"]
    ]


def quarantine(
    clients_n: pd.DataFrame,
    achats_n: pd.DataFrame,
    dedupliques: pd.DataFrame,
    clients_silver: pd.DataFrame,
) -> pd.DataFrame:
    """Every rejected row with its raw values (text), its reason, its source file and line."""
    rejected_clients = clients_n[clients_n["raison"].notna()]
    rejected_achats = achats_n[achats_n["raison"].notna()]
    # A10: the client is not in silver.clients (a NULL id_client never matches).
    unknown = dedupliques[~dedupliques["id_client"].isin(clients_silver["id_client"])]
    unknown = unknown.assign(raison="client_inconnu")
    clients_rows = pd.DataFrame(
        {
            "entite": "clients",
            "raison": rejected_clients["raison"],
            "fichier_source": rejected_clients["fichier_source"],
            "ligne_source": rejected_clients["ligne_source"],
            "id_client": rejected_clients["id_client_brut"],
            "nom": rejected_clients["nom_brut"],
            "email": rejected_clients["email_brut"],
            "date_inscription": rejected_clients["date_inscription_brute"],
            "pays": rejected_clients["pays_brut"],
        }
    )
    achats_rows = pd.concat([rejected_achats, unknown])
    achats_rows = pd.DataFrame(
        {
            "entite": "achats",
            "raison": achats_rows["raison"],
            "fichier_source": achats_rows["fichier_source"],
            "ligne_source": achats_rows["ligne_source"],
            "id_client": achats_rows["id_client_brut"],
            "id_achat": achats_rows["id_achat_brut"],
            "date_achat": achats_rows["date_achat_brute"],
            "montant": achats_rows["montant_brut"],
            "produit": achats_rows["produit_brut"],
        }
    )
    both = pd.concat([clients_rows, achats_rows], ignore_index=True)
    # Raw values stay text, NULL in the columns of the other entity.
    raw = [
        "nom",
        "email",
        "date_inscription",
        "pays",
        "id_achat",
        "date_achat",
        "montant",
    ]
    return both.astype({column: "string" for column in [*raw, "produit"]})


def quality_mesures(
    clients_n: pd.DataFrame,
    clients_silver: pd.DataFrame,
    achats_n: pd.DataFrame,
    dedupliques: pd.DataFrame,
    achats_silver: pd.DataFrame,
    quarantined: pd.DataFrame,
) -> dict[str, int]:
    """Every count of the quality report, each computed once."""
    c = clients_n[clients_n["raison"].isna()]
    a = achats_n[achats_n["raison"].isna()]

    def count(mask: pd.Series) -> int:
        return int(mask.fillna(False).sum())

    registered = achats_silver.merge(
        clients_silver[["id_client", "date_inscription"]], on="id_client"
    )
    return {
        "clients_lignes": len(clients_n),
        "clients_retenues": len(c),
        "clients_quarantaine": count(clients_n["raison"].notna()),
        "clients_email_corrige": count(
            c["email"].notna() & (c["email_brut"] != c["email"])
        ),
        "clients_email_invalide": count(c["email_brut"].notna() & c["email"].isna()),
        "clients_email_manquant": count(c["email_brut"].isna()),
        "clients_date_corrigee": count(
            c["date_inscription"].notna()
            & ~rule("is_canonical_date", c["date_inscription_brute"]).fillna(True)
        ),
        "clients_date_invalide": count(
            c["date_inscription_brute"].notna() & c["date_inscription"].isna()
        ),
        "clients_date_manquante": count(c["date_inscription_brute"].isna()),
        "clients_pays_corrige": count(
            c["pays"].notna() & (c["pays_brut"] != c["pays"])
        ),
        "clients_pays_inconnu": count(c["pays_brut"].notna() & c["pays"].isna()),
        "clients_pays_manquant": count(c["pays_brut"].isna()),
        "clients_nom_corrige": count(c["nom"].notna() & (c["nom_brut"] != c["nom"])),
        "clients_nom_manquant": count(c["nom"].isna()),
        "clients_lignes_distinctes": len(
            c[
                ["id_client", "nom", "email", "date_inscription", "pays"]
            ].drop_duplicates()
        ),
        "clients_ids": len(clients_silver),
        "achats_lignes": len(achats_n),
        "achats_retenues": len(a),
        "achats_montant_corrige": count(
            ~rule("is_canonical_amount", a["montant_brut"])
        ),
        "achats_date_corrigee": count(
            ~rule("is_canonical_timestamp", a["date_achat_brute"])
        ),
        "achats_produit_corrige": count(
            a["produit_au_catalogue"] & (a["produit_brut"] != a["produit"])
        ),
        "achats_produit_hors_catalogue": count(~a["produit_au_catalogue"]),
        "achats_lignes_distinctes": len(
            a[
                ["id_achat", "id_client", "date_achat", "montant", "produit"]
            ].drop_duplicates()
        ),
        "achats_ids": len(dedupliques),
        "achats_sortie": len(achats_silver),
        "achats_avant_inscription": count(
            registered["date_achat"].dt.normalize()
            < pd.to_datetime(registered["date_inscription"])
        ),
        "achats_quarantaine": count(quarantined["entite"] == "achats"),
    }


# (table, colonne, dimension, controle, seuil setting or None, bloquant)
QUALITY_CHECKS = [
    ("clients", "*", "volume", "lignes_entree", None, False),
    ("clients", "*", "volume", "lignes_sortie", None, False),
    ("clients", "*", "validite", "taux_quarantaine", "seuil_quarantaine", True),
    ("clients", "*", "unicite", "doublons_exacts", None, False),
    ("clients", "id_client", "unicite", "versions_anterieures", None, False),
    ("clients", "email", "validite", "email_corrige", None, False),
    ("clients", "email", "validite", "email_invalide", None, False),
    ("clients", "email", "completude", "email_manquant", "seuil_completude", False),
    ("clients", "date_inscription", "validite", "date_corrigee", None, False),
    ("clients", "date_inscription", "validite", "date_invalide", None, False),
    (
        "clients",
        "date_inscription",
        "completude",
        "date_manquante",
        "seuil_completude",
        False,
    ),
    ("clients", "pays", "validite", "pays_corrige", None, False),
    ("clients", "pays", "validite", "pays_inconnu", None, False),
    ("clients", "pays", "completude", "pays_manquant", "seuil_completude", False),
    ("clients", "nom", "validite", "nom_corrige", None, False),
    ("clients", "nom", "completude", "nom_manquant", "seuil_completude", False),
    ("achats", "*", "volume", "lignes_entree", None, False),
    ("achats", "*", "volume", "lignes_sortie", None, False),
    ("achats", "*", "validite", "taux_quarantaine", "seuil_quarantaine", True),
    ("achats", "*", "unicite", "doublons_exacts", None, False),
    ("achats", "id_achat", "unicite", "versions_anterieures", None, False),
    ("achats", "montant", "validite", "montant_corrige", None, False),
    ("achats", "date_achat", "validite", "date_corrigee", None, False),
    ("achats", "produit", "validite", "produit_corrige", None, False),
    ("achats", "produit", "validite", "produit_hors_catalogue", None, False),
    (
        "achats",
        "date_achat",
        "coherence",
        "achat_avant_inscription",
        "seuil_coherence",
        False,
    ),
]

QUARANTINE_REASONS = [
    ("clients", "ligne_malformee"),
    ("clients", "id_client_invalide"),
    ("achats", "ligne_malformee"),
    ("achats", "id_achat_invalide"),
    ("achats", "montant_invalide"),
    ("achats", "montant_non_positif"),
    ("achats", "montant_aberrant"),
    ("achats", "date_invalide"),
    ("achats", "date_future"),
    ("achats", "produit_manquant"),
    ("achats", "client_inconnu"),
]


def observed_and_failed(table: str, check: str, m: dict[str, int]) -> tuple[int, int]:
    """(rows examined, failures) of one check, from the measures."""
    t = table
    if check == "lignes_entree":
        return m[f"{t}_lignes"], 0
    if check == "lignes_sortie":
        return m["clients_ids" if t == "clients" else "achats_sortie"], 0
    if check == "taux_quarantaine":
        return m[f"{t}_lignes"], m[f"{t}_quarantaine"]
    if check == "doublons_exacts":
        return m[f"{t}_retenues"], m[f"{t}_retenues"] - m[f"{t}_lignes_distinctes"]
    if check == "versions_anterieures":
        return m[f"{t}_lignes_distinctes"], m[f"{t}_lignes_distinctes"] - m[f"{t}_ids"]
    if check == "achat_avant_inscription":
        return m["achats_sortie"], m["achats_avant_inscription"]
    failed = m[f"{t}_{check}"]
    # Missing values include those set to NULL because they were invalid.
    invalid = {"email_manquant": "email_invalide", "date_manquante": "date_invalide"}
    invalid["pays_manquant"] = "pays_inconnu"
    if check in invalid:
        failed += m[f"{t}_{invalid[check]}"]
    return m[f"{t}_retenues"], failed


def quality(
    m: dict[str, int], quarantined: pd.DataFrame, settings: dict[str, str]
) -> pd.DataFrame:
    rows = []
    for table, colonne, dimension, controle, seuil, bloquant in QUALITY_CHECKS:
        observe, echecs = observed_and_failed(table, controle, m)
        limit = float(settings[seuil]) if seuil else None
        rows.append(
            (table, colonne, dimension, controle, observe, echecs, limit, bloquant)
        )
    per_reason = quarantined.groupby(["entite", "raison"]).size()
    for entite, raison in QUARANTINE_REASONS:
        observe = m[f"{entite}_lignes"]
        echecs = int(per_reason.get((entite, raison), 0))
        rows.append(
            (
                entite,
                "*",
                "volume",
                f"quarantaine_{raison}",
                observe,
                echecs,
                None,
                False,
            )
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "table",
            "colonne",
            "dimension",
            "controle",
            "observe",
            "nb_echecs",
            "seuil",
            "bloquant",
        ],
    )
    out["pct_echecs"] = np.where(
        out["observe"] > 0,
        out["nb_echecs"] / out["observe"].where(out["observe"] > 0, 1),
        0.0,
    )
    out["seuil"] = out["seuil"].astype("float64")
    out["ok"] = out["seuil"].isna() | (out["pct_echecs"] <= out["seuil"])
    return out


def silver(inputs: engine_io.Inputs) -> Tables:
    bronze_clients = read_parquet(inputs.bronze["clients"])
    bronze_achats = read_parquet(inputs.bronze["achats"])
    pays = read_reference(inputs.reference["pays"], "pays")
    produits = read_reference(inputs.reference["produits"], "produits")
    clients_n = clients_normalises(bronze_clients, pays)
    clients_silver = clients(clients_n)
    achats_n = achats_normalises(bronze_achats, produits, inputs.settings)
    dedupliques = latest_versions(achats_n, "id_achat")
    achats_silver = achats(dedupliques, clients_silver)
    quarantined = quarantine(clients_n, achats_n, dedupliques, clients_silver)
    measures = quality_mesures(
        clients_n, clients_silver, achats_n, dedupliques, achats_silver, quarantined
    )
    return {
        "achats": achats_silver,
        "clients": clients_silver,
        "quality": quality(measures, quarantined, inputs.settings),
        "quarantine": quarantined,
    }


# ---------------------------------------------------------------- Gold


def parametres(a: pd.DataFrame) -> dict[str, object]:
    if a.empty:
        # No purchase: no reference date, no date range, no month.
        return {
            "ref_date": pd.NaT,
            "date_min": pd.NaT,
            "date_max": pd.NaT,
            "premier_mois_index": None,
            "dernier_mois_index": None,
        }
    months = mois_index(a["date_achat"])
    return {
        "ref_date": a["date_achat"].max().normalize() + pd.Timedelta(days=1),
        "date_min": a["date_achat"].min().normalize(),
        "date_max": a["date_achat"].max().normalize(),
        "premier_mois_index": int(months.min()),
        "dernier_mois_index": int(months.max()),
    }


def calendrier_mois(p: dict[str, object]) -> pd.DataFrame:
    first, last = p["premier_mois_index"], p["dernier_mois_index"]
    months = range(0) if first is None else range(first, last + 1)  # type: ignore[call-overload, operator]
    index = pd.Series(months, dtype="int64")
    return pd.DataFrame({"mois_index": index, "mois": premier_jour(index)})


def activite_mensuelle(a: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {"id_client": a["id_client"], "mois_index": mois_index(a["date_achat"])}
    )
    out = out.drop_duplicates()
    out["cohorte_index"] = out.groupby("id_client")["mois_index"].transform("min")
    return out


def ca_acheteurs(a: pd.DataFrame) -> pd.DataFrame:
    out = (a.groupby("id_client")["montant"].sum() / 100).astype("float64").rename("ca")
    out = out.reset_index()
    ascending = out.sort_values(["ca", "id_client"])
    out.loc[ascending.index, "rang_asc"] = np.arange(1, len(out) + 1)
    out.loc[ascending.index, "ca_cumule_asc"] = ascending["ca"].cumsum()
    descending = out.sort_values(["ca", "id_client"], ascending=[False, True])
    out.loc[descending.index, "rang_desc"] = np.arange(1, len(out) + 1)
    out.loc[descending.index, "ca_cumule_desc"] = descending["ca"].cumsum()
    out["nb_clients"] = len(out)
    out["ca_total"] = out["ca"].sum()
    return out.astype({"rang_asc": "int64", "rang_desc": "int64"})


def sales(frame: pd.DataFrame, by: str | pd.Series, name: str) -> pd.DataFrame:
    """CA (cents), purchases, buyers and mean basket per group, as the fact_ca_* tables."""
    grouped = frame.groupby(by, dropna=False)
    out = pd.DataFrame(
        {
            "ca": grouped["montant"].sum(),
            "nb_achats": grouped.size(),
            "nb_clients": grouped["id_client"].nunique(),
        }
    )
    out["panier_moyen"] = out["ca"] / 100 / out["nb_achats"]
    return out.rename_axis(name).reset_index()


def fact_achats(a: pd.DataFrame, c: pd.DataFrame) -> pd.DataFrame:
    out = a.merge(c[["id_client", "pays"]], on="id_client")
    stamp = out["date_achat"].dt
    return out.assign(
        date=stamp.normalize(),
        heure=stamp.hour,
        annee=stamp.year,
        mois=stamp.month,
        jour_semaine=stamp.day_of_week + 1,
    )


def dim_clients(c: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    grouped = a.groupby("id_client")
    totaux = pd.DataFrame(
        {
            "premier_achat": grouped["date_achat"].min(),
            "dernier_achat": grouped["date_achat"].max(),
            "nb_achats": grouped.size(),
            "ca_total": grouped["montant"].sum(),
        }
    ).reset_index()
    out = c.merge(totaux, on="id_client", how="left")
    return out.fillna({"nb_achats": 0, "ca_total": 0}).astype({"nb_achats": "int64"})


def dim_produits(a: pd.DataFrame) -> pd.DataFrame:
    grouped = a.groupby("produit")
    out = pd.DataFrame(
        {
            "nb_achats": grouped.size(),
            "ca": grouped["montant"].sum(),
            "nb_clients": grouped["id_client"].nunique(),
            "premiere_vente": grouped["date_achat"].min(),
            "derniere_vente": grouped["date_achat"].max(),
        }
    )
    out["prix_moyen"] = out["ca"] / 100 / out["nb_achats"]
    return out.reset_index()


def segment(r: int, f: int) -> str:
    """The RFM segment of (r_score, f_score), as in the data contract."""
    if r == 5:
        return (
            "Nouveaux"
            if f == 1
            else "Fidèles potentiels"
            if f in (2, 3)
            else "Champions"
        )
    if r == 4:
        return (
            "Prometteurs"
            if f == 1
            else "Fidèles potentiels"
            if f in (2, 3)
            else "Fidèles"
        )
    if r == 3:
        return (
            "Presque endormis"
            if f in (1, 2)
            else "À surveiller"
            if f == 3
            else "Fidèles"
        )
    return (
        "En hibernation"
        if f in (1, 2)
        else "À risque"
        if f in (3, 4)
        else "À ne pas perdre"
    )


def dim_rfm(a: pd.DataFrame, p: dict[str, object]) -> pd.DataFrame:
    grouped = a.groupby("id_client")
    last = grouped["date_achat"].max().dt.normalize()
    out = pd.DataFrame(
        {
            "recence_jours": (p["ref_date"] - last).dt.days,
            "frequence": grouped.size(),
            "montant": grouped["montant"].sum(),
        }
    ).reset_index()
    out["r_score"] = ntile(out, ["recence_jours", "id_client"], [False, True], 5)
    out["f_score"] = ntile(out, ["frequence", "id_client"], [True, True], 5)
    out["m_score"] = ntile(out, ["montant", "id_client"], [True, True], 5)
    scores = out[["r_score", "f_score", "m_score"]].astype(str)
    out["rfm_code"] = scores["r_score"] + scores["f_score"] + scores["m_score"]
    names = {(r, f): segment(r, f) for r in range(1, 6) for f in range(1, 6)}
    out["segment"] = [
        names[key] for key in zip(out["r_score"], out["f_score"], strict=True)
    ]
    return out


JOURS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def dim_temps(p: dict[str, object]) -> pd.DataFrame:
    if pd.isna(p["date_min"]):
        days = pd.Series([], dtype="datetime64[us]")
    else:
        days = pd.Series(pd.date_range(p["date_min"], p["date_max"], freq="D"))  # type: ignore[arg-type]
    weekday = days.dt.day_of_week + 1
    return pd.DataFrame(
        {
            "date": days,
            "annee": days.dt.year,
            "trimestre": days.dt.quarter,
            "mois": days.dt.month,
            "semaine_iso": days.dt.isocalendar().week.astype("int64"),
            "jour_semaine": weekday,
            "nom_jour": [JOURS[d - 1] for d in weekday],
            "est_weekend": weekday >= 6,
        }
    )


def kpi_clv(a: pd.DataFrame, p: dict[str, object]) -> pd.DataFrame:
    grouped = a.groupby("id_client")
    first = grouped["date_achat"].min().dt.normalize()
    out = pd.DataFrame(
        {
            "ca_total": grouped["montant"].sum(),
            "nb_achats": grouped.size(),
            "anciennete_jours": (p["ref_date"] - first).dt.days,
        }
    )
    out["panier_moyen"] = out["ca_total"] / 100 / out["nb_achats"]
    months = np.maximum(1.0, out["anciennete_jours"] / 30.4375)
    out["frequence_mensuelle"] = out["nb_achats"] / months
    out["clv_historique"] = out["ca_total"]
    out["clv_12m"] = out["panier_moyen"] * out["frequence_mensuelle"] * 12
    return out.reset_index()


def growth(current: pd.Series, base: pd.Series) -> pd.Series:
    """(current - base) / base as floats, NULL when the base is NULL or 0."""
    return ((current - base) / base).where(base.notna() & (base != 0)).astype("float64")


def kpi_croissance(calendrier: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    ca = a.groupby(mois_index(a["date_achat"]))["montant"].sum()
    serie = calendrier.assign(
        ca=calendrier["mois_index"].map(ca).fillna(0).astype("Int64")
    )
    by_month = serie.set_index("mois_index")["ca"]
    precedent = (serie["mois_index"] - 1).map(by_month)
    annee = (serie["mois_index"] - 12).map(by_month)
    return pd.DataFrame(
        {
            "mois": serie["mois"],
            "ca": serie["ca"],
            "ca_mois_precedent": precedent,
            "croissance_mom": growth(serie["ca"], precedent),
            "ca_annee_precedente": annee,
            "croissance_yoy": growth(serie["ca"], annee),
        }
    )


def kpi_produits(a: pd.DataFrame, p: dict[str, object]) -> pd.DataFrame:
    month = mois_index(a["date_achat"])
    # Without purchases there is no last month, and no row to compare with it.
    last_month: int = -1 if p["dernier_mois_index"] is None else p["dernier_mois_index"]  # type: ignore[assignment]
    last = a["montant"].where(month == last_month, 0)
    before = a["montant"].where(month == last_month - 1, 0)
    grouped = a.assign(dernier=last, precedent=before).groupby("produit")
    out = pd.DataFrame(
        {
            "ca": grouped["montant"].sum(),
            "nb_achats": grouped.size(),
            "nb_clients": grouped["id_client"].nunique(),
            "ca_dernier_mois": grouped["dernier"].sum(),
            "ca_mois_precedent": grouped["precedent"].sum(),
        }
    ).reset_index()
    out["part_ca"] = out["ca"] / out["ca"].sum()
    ranked = out.sort_values(["ca", "produit"], ascending=[False, True])
    out.loc[ranked.index, "rang_ca"] = np.arange(1, len(out) + 1)
    out["croissance_mom"] = growth(out["ca_dernier_mois"], out["ca_mois_precedent"])
    return out.astype({"rang_ca": "int64"})


def kpi_retention(
    calendrier: pd.DataFrame, activite: pd.DataFrame, p: dict[str, object]
) -> pd.DataFrame:
    actifs = activite.groupby("mois_index").size()
    nouveaux = activite[activite["mois_index"] == activite["cohorte_index"]]
    nouveaux = nouveaux.groupby("mois_index").size()
    previous = activite.assign(mois_index=activite["mois_index"] + 1)
    retenus = activite.merge(
        previous[["id_client", "mois_index"]], on=["id_client", "mois_index"]
    )
    retenus = retenus.groupby("mois_index").size()
    months = calendrier[calendrier["mois_index"] > p["premier_mois_index"]]
    index = months["mois_index"]
    out = pd.DataFrame(
        {
            "mois": months["mois"],
            "clients_actifs": index.map(actifs).fillna(0).astype("int64"),
            "clients_actifs_mois_precedent": (index - 1)
            .map(actifs)
            .fillna(0)
            .astype("int64"),
            "clients_retenus": index.map(retenus).fillna(0).astype("int64"),
            "nouveaux_clients": index.map(nouveaux).fillna(0).astype("int64"),
        }
    )
    base = out["clients_actifs_mois_precedent"]
    rate = (out["clients_retenus"] / base.where(base > 0)).astype("float64")
    out["taux_retention"] = rate
    out["taux_churn"] = 1.0 - rate
    return out


def kpi_rfm(rfm: pd.DataFrame) -> pd.DataFrame:
    grouped = rfm.groupby("segment")
    out = pd.DataFrame(
        {
            "nb_clients": grouped.size(),
            "ca": grouped["montant"].sum(),
            "recence_moyenne": grouped["recence_jours"].sum() / grouped.size(),
            "frequence_moyenne": grouped["frequence"].sum() / grouped.size(),
        }
    )
    out["part_clients"] = out["nb_clients"] / out["nb_clients"].sum()
    ca = out["ca"] / 100
    out["part_ca"] = ca / ca.sum()
    out["montant_moyen"] = ca / out["nb_clients"]
    return out.reset_index()


def kpi_rfm_grille(rfm: pd.DataFrame) -> pd.DataFrame:
    grouped = rfm.groupby(["r_score", "f_score", "segment"])
    out = pd.DataFrame(
        {"nb_clients": grouped.size(), "ca": grouped["montant"].sum()}
    ).reset_index()
    out["part_clients"] = out["nb_clients"] / out["nb_clients"].sum()
    out["part_ca"] = out["ca"] / out["ca"].sum()
    return out


def kpi_clv_deciles(clv: pd.DataFrame) -> pd.DataFrame:
    ranked = clv.reset_index(drop=True)
    ranked["decile"] = ntile(ranked, ["clv_12m", "id_client"], [True, True], 10)
    grouped = ranked.groupby("decile")["clv_12m"]
    out = pd.DataFrame(
        {
            "nb_clients": grouped.size(),
            "clv_min": grouped.min(),
            "clv_max": grouped.max(),
            "clv_totale": grouped.sum(),
        }
    )
    out["clv_moyenne"] = out["clv_totale"] / out["nb_clients"]
    out["part_clv"] = out["clv_totale"] / out["clv_totale"].sum()
    return out.reset_index()


def concentration(acheteurs: pd.DataFrame) -> pd.DataFrame:
    n = len(acheteurs)
    if n == 0:
        # No buyer: the count, and no measure without a base.
        return pd.DataFrame(
            {
                "nb_clients": [0],
                "gini": [None],
                "part_ca_top20": [None],
                "part_clients_80pct": [None],
            }
        ).astype(
            {
                "nb_clients": "int64",
                "gini": "float64",
                "part_ca_top20": "float64",
                "part_clients_80pct": "float64",
            }
        )
    total = acheteurs["ca_total"].max()
    ca = acheteurs["ca"]
    top = acheteurs["rang_desc"] <= math.ceil(0.2 * n)
    reached = acheteurs.loc[acheteurs["ca_cumule_desc"] >= 0.8 * total, "rang_desc"]
    return pd.DataFrame(
        {
            "nb_clients": [n],
            "gini": [((2.0 * acheteurs["rang_asc"] - n - 1) * ca).sum() / (n * total)],
            "part_ca_top20": [ca.where(top, 0).sum() / total],
            "part_clients_80pct": [reached.min() / n],
        }
    )


def lorenz(acheteurs: pd.DataFrame) -> pd.DataFrame:
    n = len(acheteurs)
    total = acheteurs["ca_total"].max()
    cumulated = acheteurs.set_index("rang_asc")["ca_cumule_asc"]
    # No point at all without a buyer.
    points = pd.Series(range(101 if n > 0 else 0), dtype="int64")
    reached = (points * n // 100).map(cumulated).fillna(0.0)
    return pd.DataFrame(
        {"part_clients": points / 100, "part_ca_cumulee": reached / total}
    )


def kpi_globaux(
    a: pd.DataFrame,
    c: pd.DataFrame,
    clv: pd.DataFrame,
    retention: pd.DataFrame,
    concentrated: pd.DataFrame,
    p: dict[str, object],
) -> pd.DataFrame:
    total = int(a["montant"].sum())
    return pd.DataFrame(
        {
            "ca_total": [total],
            "nb_achats": [len(a)],
            "nb_clients_acheteurs": [a["id_client"].nunique()],
            "nb_clients_inscrits": [len(c)],
            # NULL without any purchase.
            "panier_moyen": pd.Series(
                [total / 100 / len(a) if len(a) else None], dtype="Float64"
            ),
            "clv_moyenne": pd.Series([clv["clv_12m"].mean()], dtype="Float64"),
            "taux_retention_moyen": [retention["taux_retention"].mean()],
            "gini": concentrated["gini"],
            "part_ca_top20": concentrated["part_ca_top20"],
            "date_min": [p["date_min"]],
            "date_max": [p["date_max"]],
            "ref_date": [p["ref_date"]],
        }
    )


def cohortes(activite: pd.DataFrame, p: dict[str, object]) -> pd.DataFrame:
    premiers = activite[activite["mois_index"] == activite["cohorte_index"]]
    tailles = (
        premiers.groupby("cohorte_index").size().rename("taille_cohorte").reset_index()
    )
    tailles["mois_relatif"] = [
        list(range(p["dernier_mois_index"] - cohorte + 1))  # type: ignore[operator]
        for cohorte in tailles["cohorte_index"]
    ]
    cells = tailles.explode("mois_relatif").astype({"mois_relatif": "int64"})
    actifs = activite.assign(
        mois_relatif=activite["mois_index"] - activite["cohorte_index"]
    )
    actifs = (
        actifs.groupby(["cohorte_index", "mois_relatif"])
        .size()
        .rename("clients_actifs")
    )
    cells = cells.merge(
        actifs.reset_index(), on=["cohorte_index", "mois_relatif"], how="left"
    )
    cells["clients_actifs"] = cells["clients_actifs"].fillna(0).astype("int64")
    return pd.DataFrame(
        {
            "cohorte": premier_jour(cells["cohorte_index"]),
            "mois_relatif": cells["mois_relatif"],
            "taille_cohorte": cells["taille_cohorte"],
            "clients_actifs": cells["clients_actifs"],
            "taux_retention": cells["clients_actifs"] / cells["taille_cohorte"],
        }
    )


def saisonnalite(
    ca_jour: pd.DataFrame, temps: pd.DataFrame, facts: pd.DataFrame
) -> pd.DataFrame:
    daily = temps["date"].map(ca_jour.set_index("date")["ca"]).fillna(0) / 100
    jours = temps.assign(
        ca=daily.astype("float64"), mois_index=mois_index(temps["date"])
    )
    # Without any day (no purchase) every group below is empty: 0 / 0 is never used.
    ca_total, nb_jours = jours["ca"].sum(), max(len(jours), 1)
    per_weekday = jours.groupby("jour_semaine")["ca"].mean()
    per_month = jours.groupby("mois_index").agg(mois=("mois", "min"), ca=("ca", "sum"))
    per_calendar_month = per_month.groupby("mois")["ca"].mean()
    per_hour = (facts.groupby("heure")["montant"].sum() / 100).astype("float64")
    parts = [
        ("jour_semaine", per_weekday, per_weekday / (ca_total / nb_jours)),
        (
            "mois",
            per_calendar_month,
            per_calendar_month / (ca_total / max(len(per_month), 1)),
        ),
        ("heure", per_hour / nb_jours, per_hour / (ca_total / 24)),
    ]
    return pd.concat(
        pd.DataFrame(
            {
                "dimension": name,
                "valeur": mean.index,
                "ca_moyen": mean.values,
                "indice": index,
            }
        )
        for name, mean, index in parts
    )


def gold(s: Tables) -> Tables:
    a, c = s["achats"], s["clients"]
    p = parametres(a)
    calendrier = calendrier_mois(p)
    activite = activite_mensuelle(a)
    acheteurs = ca_acheteurs(a)
    facts = fact_achats(a, c)
    rfm = dim_rfm(a, p)
    temps = dim_temps(p)
    clv = kpi_clv(a, p)
    retention = kpi_retention(calendrier, activite, p)
    concentrated = concentration(acheteurs)
    ca_jour = sales(facts, "date", "date")
    stamp = facts["date_achat"].dt
    return {
        "cohortes": cohortes(activite, p),
        "concentration": concentrated,
        "dim_clients": dim_clients(c, a),
        "dim_produits": dim_produits(a),
        "dim_rfm": rfm,
        "dim_temps": temps,
        "fact_achats": facts,
        "fact_ca_heure": sales(facts, "heure", "heure"),
        "fact_ca_jour": ca_jour,
        "fact_ca_mois": sales(facts, stamp.to_period("M").dt.start_time, "mois"),
        "fact_ca_pays": sales(facts, "pays", "pays").assign(
            part_ca=lambda t: t["ca"] / t["ca"].sum()
        ),
        "fact_ca_semaine": sales(
            facts,
            stamp.normalize() - pd.to_timedelta(stamp.day_of_week, "D"),
            "semaine",
        ),
        "kpi_clv": clv,
        "kpi_clv_deciles": kpi_clv_deciles(clv),
        "kpi_croissance": kpi_croissance(calendrier, a),
        "kpi_globaux": kpi_globaux(a, c, clv, retention, concentrated, p),
        "kpi_produits": kpi_produits(a, p),
        "kpi_retention": retention,
        "kpi_rfm": kpi_rfm(rfm),
        "kpi_rfm_grille": kpi_rfm_grille(rfm),
        "lorenz": lorenz(acheteurs),
        "saisonnalite": saisonnalite(ca_jour, temps, facts),
    }


# ---------------------------------------------------------------- input and output

# Columns holding money in cents, written as DECIMAL(…, 2) like the SQL's.
MONEY = {
    "montant",
    "ca",
    "ca_total",
    "clv_historique",
    "ca_dernier_mois",
    "ca_mois_precedent",
}
MONEY |= {"ca_annee_precedente"}
# Columns holding calendar days (pandas keeps them as midnight timestamps).
DAYS = {
    "date",
    "date_inscription",
    "semaine",
    "mois",
    "cohorte",
    "date_min",
    "date_max",
}
DAYS |= {"ref_date"}


def read_parquet(files: list[Path]) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def read_reference(path: Path, name: str) -> pd.DataFrame:
    schema = engine_io.REFERENCE_SCHEMAS[name]
    options = pa_csv.ConvertOptions(column_types=schema)
    return pa_csv.read_csv(path, convert_options=options).to_pandas()


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if field.name in MONEY and pa.types.is_integer(field.type):
            decimal = pa.decimal128(12 if name == "achats" else 22, 2)
            money = rules.cents_to_decimal(column.combine_chunks(), decimal)
            table = table.set_column(i, field.name, money)
        elif field.name in DAYS and pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, column.cast(pa.date32()))
    return table


def write(out: Path, layer: str, tables: Tables) -> int:
    for name, frame in tables.items():
        folder = out / layer / name
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(to_arrow(name, frame), folder / "data.parquet")
    return len(tables)


def main() -> None:
    args = engine_io.arguments(__doc__ or "").parse_args()
    inputs = engine_io.read_inputs(args.input_lake)
    with engine_io.stage("silver") as written:
        silver_tables = silver(inputs)
        written += [1] * write(args.out, "silver", silver_tables)
    with engine_io.stage("gold") as written:
        written += [1] * write(args.out, "gold", gold(silver_tables))


if __name__ == "__main__":
    main()
