"""Customer Lifetime Value – the largest CLVs and their spread."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lake_dashboard import api, charts, fr, ui

TOP = 500


def body() -> None:
    kpis = api.get("/kpis/globaux")
    st.metric("CLV moyenne sur 12 mois", fr.euros(kpis.get("clv_moyenne")))
    clv = api.rows("/kpis/clv", limit=TOP)
    if not clv:
        ui.empty()
        return
    fig = charts.figure(
        f"Répartition des {fr.nombre(len(clv))} plus grandes CLV (12 mois)"
    )
    fig.add_trace(go.Histogram(x=[c["clv_12m"] for c in clv], nbinsx=40))
    fig.update_xaxes(ticksuffix=" €")
    st.plotly_chart(fig, width="stretch")
    st.subheader("Meilleurs clients")
    ui.table(
        [
            {
                "Client": c["id_client"],
                "CLV 12 mois": fr.euros(c["clv_12m"]),
                "CA historique": fr.euros(c["clv_historique"]),
                "Achats": fr.nombre(c["nb_achats"]),
                "Panier moyen": fr.euros(c["panier_moyen"]),
                "Ancienneté (jours)": fr.nombre(c["anciennete_jours"]),
            }
            for c in clv[:50]
        ]
    )
    st.caption("Le détail d'un client est sur la page « Fiche client ».")


ui.page("Customer Lifetime Value", body)
