"""Analyse géographique – revenue, purchases, basket and share per country (a bar chart: no
map, which would fetch its shapes from the internet)."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, charts, fr, ui


def body() -> None:
    pays = sorted(
        api.rows("/ventes", grain="pays"), key=lambda p: p["ca"], reverse=True
    )
    if not pays:
        ui.empty()
        return
    fig = charts.add_bars(
        charts.figure("Chiffre d'affaires par pays"),
        [p["pays"] or "Inconnu" for p in pays],
        [p["ca"] for p in pays],
        "euros",
    )
    st.plotly_chart(fig, width="stretch")
    ui.table(
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
        ]
    )


ui.page("Analyse géographique", body)
