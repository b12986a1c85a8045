"""Performance produits – rank, revenue, quantity, last month and its growth."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lake_dashboard import api, charts, fr, ui


def body() -> None:
    produits = api.rows("/kpis/produits")
    if not produits:
        ui.empty()
        return
    top = produits[:15]
    fig = charts.figure("Les 15 premiers produits par chiffre d'affaires")
    fig.add_trace(
        go.Bar(
            x=[p["ca"] for p in reversed(top)],
            y=[p["produit"] for p in reversed(top)],
            orientation="h",
            hovertemplate="%{x:,.2f} €",
        )
    )
    fig.update_xaxes(ticksuffix=" €")
    st.plotly_chart(fig, width="stretch")
    st.dataframe(
        [
            {
                "Rang": p["rang_ca"],
                "Produit": p["produit"],
                "CA": fr.euros(p["ca"]),
                "Part du CA": fr.pourcentage(p["part_ca"]),
                "Quantité vendue": fr.nombre(p["nb_achats"]),
                "Clients": fr.nombre(p["nb_clients"]),
                "Dernier mois": fr.euros(p["ca_dernier_mois"]),
                "Mois précédent": fr.euros(p["ca_mois_precedent"]),
                "Croissance": fr.variation(p["croissance_mom"]),
            }
            for p in produits
        ],
        hide_index=True,
        width="stretch",
    )


ui.page("Performance produits", body)
