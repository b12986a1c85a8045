"""Performance produits – rank, revenue, quantity, last month and its growth."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, charts, fr, ui


def body() -> None:
    produits = api.rows("/kpis/produits")
    if not produits:
        ui.empty()
        return
    top = produits[:15]
    fig = charts.add_bars(
        charts.figure("Les 15 premiers produits par chiffre d'affaires"),
        [p["produit"] for p in reversed(top)],
        [p["ca"] for p in reversed(top)],
        "euros",
        horizontal=True,
    )
    st.plotly_chart(fig, width="stretch")
    ui.table(
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
        ]
    )


ui.page("Performance produits", body)
