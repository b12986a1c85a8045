"""Rétention & churn – monthly retention and churn, and the clients the churn model scores
most at risk."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lake_dashboard import api, charts, fr, ui

# (indicator of the model report, label), lowest risk first.
BANDS = [
    ("clients_risque_faible", "Risque faible"),
    ("clients_risque_moyen", "Risque moyen"),
    ("clients_risque_eleve", "Risque élevé"),
]


def risk_bands() -> None:
    """Buyers per churn risk band, as the ML stage counted them in its report."""
    report = {
        r["indicateur"]: r["valeur"]
        for r in api.rows("/ml/rapport")
        if r["modele"] == "churn"
    }
    counts = [report.get(key) for key, _ in BANDS]
    if any(c is None for c in counts):
        return
    st.subheader("Acheteurs par niveau de risque de churn")
    total = sum(counts) or 1
    cols = st.columns(len(BANDS))
    for col, (_, label), count in zip(cols, BANDS, counts, strict=True):
        col.metric(
            label,
            fr.nombre(count),
            help=f"{fr.pourcentage(count / total)} des acheteurs",
        )
    fig = charts.figure()
    charts.add_bars(
        fig,
        [label for _, label in BANDS],
        [c / total * 100 for c in counts],
        "pourcentage",
    )
    fig.update_layout(height=260)
    st.plotly_chart(fig, width="stretch")


def body() -> None:
    kpis = api.get("/kpis/globaux")
    st.metric(
        "Rétention mensuelle moyenne", fr.pourcentage(kpis.get("taux_retention_moyen"))
    )
    retention = api.rows("/kpis/retention")
    if not retention:
        ui.empty("Pas de rétention à calculer : il faut au moins deux mois d'achats.")
    else:
        fig = charts.figure("Rétention et churn par mois")
        months = [r["mois"] for r in retention]
        for key, name in (("taux_retention", "Rétention"), ("taux_churn", "Churn")):
            fig.add_trace(
                go.Scatter(
                    x=months,
                    y=[None if r[key] is None else r[key] * 100 for r in retention],
                    name=name,
                    hovertemplate="%{y:.1f} %",
                )
            )
        fig.update_yaxes(ticksuffix=" %")
        charts.french_dates(fig, months, monthly=True)
        st.plotly_chart(fig, width="stretch")
        ui.table(
            [
                {
                    "Mois": fr.mois(r["mois"]),
                    "Clients actifs": fr.nombre(r["clients_actifs"]),
                    "Actifs le mois précédent": fr.nombre(
                        r["clients_actifs_mois_precedent"]
                    ),
                    "Retenus": fr.nombre(r["clients_retenus"]),
                    "Nouveaux": fr.nombre(r["nouveaux_clients"]),
                    "Rétention": fr.pourcentage(r["taux_retention"]),
                    "Churn": fr.pourcentage(r["taux_churn"]),
                }
                for r in retention
            ]
        )
    risk_bands()
    st.subheader("Clients les plus à risque (modèle de churn)")
    risques = api.rows("/ml/churn", limit=20)
    if not risques:
        ui.empty(
            "Le modèle de churn n'a pas été entraîné (voir la page « Segments ML »)."
        )
        return
    ui.table(
        [
            {
                "Client": r["id_client"],
                "Probabilité de churn": fr.pourcentage(r["score_churn"]),
                "Risque": r["risque"],
            }
            for r in risques
        ]
    )


ui.page("Rétention & churn", body)
