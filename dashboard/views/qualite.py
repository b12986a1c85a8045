"""Qualité des données – the Silver quality report of the served Gold, the quarantined rows per
reason, and each quarantined row with its source file and line."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lake_dashboard import api, charts, fr, ui

PAGE_SIZE = 100
ENTITES = {"Toutes": None, "Clients": "clients", "Achats": "achats"}
# The data contract's quarantine reasons, in words.
RAISONS = {
    "ligne_malformee": "ligne malformée",
    "id_client_invalide": "identifiant client invalide",
    "id_achat_invalide": "identifiant d'achat invalide",
    "montant_invalide": "montant illisible",
    "montant_non_positif": "montant nul ou négatif",
    "montant_aberrant": "montant aberrant",
    "date_invalide": "date illisible",
    "date_future": "date dans le futur",
    "produit_manquant": "produit manquant",
    "client_inconnu": "client inconnu",
}
DIMENSIONS = {
    "completude": "complétude",
    "unicite": "unicité",
    "validite": "validité",
    "coherence": "cohérence",
    "volume": "volume",
}


def volumes(report: list[dict[str, Any]]) -> None:
    def check(table: str, controle: str) -> dict[str, Any]:
        return next(
            (r for r in report if r["table"] == table and r["controle"] == controle), {}
        )

    for table, label in (("clients", "Clients"), ("achats", "Achats")):
        taux = check(table, "taux_quarantaine")
        cols = st.columns(3)
        cols[0].metric(
            f"{label} : lignes lues",
            fr.nombre(check(table, "lignes_entree").get("observe")),
        )
        cols[1].metric(
            f"{label} : lignes gardées",
            fr.nombre(check(table, "lignes_sortie").get("observe")),
        )
        cols[2].metric(
            f"{label} en quarantaine",
            fr.nombre(taux.get("nb_echecs")),
            help=f"{fr.pourcentage(taux.get('pct_echecs'), 2)} des lignes lues "
            f"(seuil bloquant {fr.pourcentage(taux.get('seuil'), 1)})",
        )


def reasons_chart(report: list[dict[str, Any]]) -> None:
    rows = [
        r
        for r in report
        if r["controle"].startswith("quarantaine_") and (r["nb_echecs"] or 0) > 0
    ]
    if not rows:
        ui.empty("Aucune ligne en quarantaine : les sources sont propres.")
        return
    rows.sort(key=lambda r: r["nb_echecs"])
    labels = [
        f"{r['table']} · {RAISONS.get(r['controle'].removeprefix('quarantaine_'), r['controle'])}"
        for r in rows
    ]
    fig = charts.figure("Lignes en quarantaine par raison")
    fig.add_bar(
        x=[r["nb_echecs"] for r in rows],
        y=labels,
        orientation="h",
        hovertemplate="%{x} lignes<extra></extra>",
    )
    # Whole rows: integer ticks only.
    fig.update_xaxes(tickformat=",d", dtick=1 if rows[-1]["nb_echecs"] <= 10 else None)
    fig.update_layout(hovermode="closest", height=120 + 32 * len(rows))
    st.plotly_chart(fig, width="stretch")


def checks_table(report: list[dict[str, Any]]) -> None:
    ui.table(
        [
            {
                "Table": r["table"],
                "Colonne": r["colonne"],
                "Dimension": DIMENSIONS.get(r["dimension"], r["dimension"]),
                "Contrôle": r["controle"],
                "Lignes examinées": fr.nombre(r["observe"]),
                "Échecs": fr.nombre(r["nb_echecs"]),
                "Part en échec": fr.pourcentage(r["pct_echecs"], 2),
                "Seuil": fr.pourcentage(r["seuil"], 1),
                "Bloquant": "oui" if r["bloquant"] else "non",
                "Résultat": "conforme" if r["ok"] else "hors seuil",
            }
            for r in report
            if r["dimension"] != "volume"
        ]
    )


def raw(value: str | None) -> str:
    """A raw source value as the file held it; a dash where the row had none."""
    return fr.MISSING if value is None else value


def quarantined_rows(report: list[dict[str, Any]]) -> None:
    left, middle, right = st.columns(3)
    entite = ENTITES[left.selectbox("Entité", list(ENTITES), key="q_entite")]
    present = sorted(
        {
            r["controle"].removeprefix("quarantaine_")
            for r in report
            if r["controle"].startswith("quarantaine_")
            and (r["nb_echecs"] or 0) > 0
            and (entite is None or r["table"] == entite)
        }
    )
    choices = {"Toutes": None} | {RAISONS.get(p, p): p for p in present}
    raison = choices[middle.selectbox("Raison", list(choices), key="q_raison")]
    page = right.number_input("Page", min_value=1, value=1, step=1, key="q_page")
    rows = api.rows(
        "/qualite/quarantaine",
        entite=entite,
        raison=raison,
        limit=PAGE_SIZE,
        offset=(int(page) - 1) * PAGE_SIZE,
    )
    if not rows:
        ui.empty("Aucune ligne en quarantaine pour cette sélection.")
        return
    st.caption(
        "La ligne est celle qu'affiche un éditeur de texte dans le fichier source, "
        "en-tête compris."
    )
    ui.table(
        [
            {
                "Fichier": r["fichier_source"],
                "Ligne": r["ligne_source"],
                "Entité": r["entite"],
                "Raison": RAISONS.get(r["raison"], r["raison"]),
                "id_client": raw(r["id_client"]),
                "id_achat": raw(r["id_achat"]),
                "date": raw(r["date_achat"] or r["date_inscription"]),
                "montant": raw(r["montant"]),
                "produit": raw(r["produit"]),
                "nom": raw(r["nom"]),
                "email": raw(r["email"]),
                "pays": raw(r["pays"]),
            }
            for r in rows
        ]
    )


def body() -> None:
    report = api.rows("/qualite")
    if not report:
        ui.empty("Aucun rapport de qualité n'est servi.")
        return
    volumes(report)
    reasons_chart(report)
    st.subheader("Contrôles")
    checks_table(report)
    st.subheader("Lignes en quarantaine")
    quarantined_rows(report)


ui.page("Qualité des données", body)
