"""Segmentation RFM – each segment's buyers, revenue and shares."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, charts, fr, ui


def body() -> None:
    segments = sorted(api.rows("/kpis/rfm"), key=lambda s: s["ca"], reverse=True)
    if not segments:
        ui.empty()
        return
    fig = charts.figure("Clients et chiffre d'affaires par segment")
    names = [s["segment"] for s in segments]
    for key, name in (("part_clients", "Part des clients"), ("part_ca", "Part du CA")):
        charts.add_bars(
            fig, names, [s[key] * 100 for s in segments], "pourcentage", name
        )
    st.plotly_chart(fig, width="stretch")
    ui.table(
        [
            {
                "Segment": s["segment"],
                "Clients": fr.nombre(s["nb_clients"]),
                "Part des clients": fr.pourcentage(s["part_clients"]),
                "CA": fr.euros(s["ca"]),
                "Part du CA": fr.pourcentage(s["part_ca"]),
                "Récence moyenne (jours)": fr.nombre(s["recence_moyenne"], 1),
                "Fréquence moyenne": fr.nombre(s["frequence_moyenne"], 1),
                "Montant moyen": fr.euros(s["montant_moyen"]),
            }
            for s in segments
        ]
    )


ui.page("Segmentation RFM", body)
