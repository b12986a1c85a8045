"""Customer Lifetime Value – its distribution over all buyers (deciles) and the largest CLVs,
each linked to the client's page."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, charts, fr, ui

TOP = 50


def deciles_chart(deciles: list[dict[str, object]]) -> None:
    labels = [f"D{d['decile']}" for d in deciles]
    fig = charts.figure("CLV moyenne sur 12 mois par décile d'acheteurs")
    charts.add_bars(fig, labels, [d["clv_moyenne"] for d in deciles], "euros")
    st.plotly_chart(fig, width="stretch")
    ui.table(
        [
            {
                "Décile": f"D{d['decile']}",
                "Acheteurs": fr.nombre(d["nb_clients"]),
                "CLV min.": fr.euros(d["clv_min"]),
                "CLV max.": fr.euros(d["clv_max"]),
                "CLV moyenne": fr.euros(d["clv_moyenne"]),
                "Part de la CLV totale": fr.pourcentage(d["part_clv"]),
            }
            for d in deciles
        ]
    )


def body() -> None:
    kpis = api.get("/kpis/globaux")
    st.metric("CLV moyenne sur 12 mois", fr.euros(kpis.get("clv_moyenne")))
    deciles = api.rows("/kpis/clv/deciles")
    if not deciles:
        ui.empty()
        return
    st.caption(
        "Les acheteurs sont rangés par CLV croissante puis coupés en dix parts égales : "
        "D1 réunit les 10 % d'acheteurs à la plus faible CLV, D10 les 10 % à la plus forte."
    )
    deciles_chart(deciles)
    st.subheader("Meilleurs clients")
    clv = api.rows("/kpis/clv", limit=TOP)
    st.dataframe(
        [
            {
                "Client": c["id_client"],
                "CLV 12 mois": fr.euros(c["clv_12m"]),
                "CA historique": fr.euros(c["clv_historique"]),
                "Achats": fr.nombre(c["nb_achats"]),
                "Panier moyen": fr.euros(c["panier_moyen"]),
                "Ancienneté (jours)": fr.nombre(c["anciennete_jours"]),
                "Fiche": f"fiche_client?client={c['id_client']}",
            }
            for c in clv
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Fiche": st.column_config.LinkColumn("Fiche", display_text="Voir la fiche")
        },
    )


ui.page("Customer Lifetime Value", body)
