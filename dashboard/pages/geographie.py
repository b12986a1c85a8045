"""Analyse géographique – revenue, purchases, basket and share per country (a bar chart: no
map, which would fetch its shapes from the internet)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lake_dashboard import api, charts, fr, ui


def body() -> None:
    pays = sorted(
        api.rows("/ventes", grain="pays"), key=lambda p: p["ca"], reverse=True
    )
    if not pays:
        ui.empty()
        return
    fig = charts.figure("Chiffre d'affaires par pays")
    fig.add_trace(
        go.Bar(
            x=[p["pays"] or "Inconnu" for p in pays],
            y=[p["ca"] for p in pays],
            hovertemplate="%{y:,.2f} €",
        )
    )
    fig.update_yaxes(ticksuffix=" €")
    st.plotly_chart(fig, width="stretch")
    st.dataframe(
        [
            {
                "Pays": p["pays"] or "Inconnu",
                "CA": fr.euros(p["ca"]),
                "Part du CA": fr.pourcentage(p["part_ca"]),
                "Achats": fr.nombre(p["nb_achats"]),
                "Clients": fr.nombre(p["nb_clients"]),
                "Panier moyen": fr.euros(p["panier_moyen"]),
            }
            for p in pays
        ],
        hide_index=True,
        width="stretch",
    )


ui.page("Analyse géographique", body)
