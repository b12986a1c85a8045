"""Saisonnalité – indices by weekday, calendar month and hour (1 = the mean)."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, charts, fr, ui

DIMENSIONS = {
    "jour_semaine": ("Par jour de la semaine", fr.jour_semaine),
    "mois": ("Par mois", lambda m: fr.MOIS[m - 1]),
    "heure": ("Par heure", lambda h: f"{h} h"),
}


def body() -> None:
    st.caption("Un indice de 1 est la moyenne ; 1,2 signifie 20 % au-dessus.")
    for dimension, (title, label) in DIMENSIONS.items():
        st.subheader(title)
        points = sorted(
            api.rows("/analytics/saisonnalite", dimension=dimension),
            key=lambda p: p["valeur"],
        )
        if not points:
            ui.empty()
            continue
        fig = charts.add_bars(
            charts.figure(),
            [label(p["valeur"]) for p in points],
            [p["indice"] for p in points],
            "indice",
        )
        fig.add_hline(y=1.0, line_dash="dot")
        st.plotly_chart(fig, width="stretch")


ui.page("Saisonnalité", body)
