"""Accueil – the headline KPIs of the served Gold."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, fr, ui


def body() -> None:
    kpis = api.get("/kpis/globaux")
    # The revenue is the longest figure: its column is wider.
    row1 = st.columns([1.6, 1, 1, 1])
    row1[0].metric("Chiffre d'affaires", fr.euros(kpis.get("ca_total")))
    row1[1].metric("Achats", fr.nombre(kpis.get("nb_achats")))
    row1[2].metric("Clients acheteurs", fr.nombre(kpis.get("nb_clients_acheteurs")))
    row1[3].metric("Clients inscrits", fr.nombre(kpis.get("nb_clients_inscrits")))
    row2 = st.columns([1.6, 1, 1, 1])
    row2[0].metric("Panier moyen", fr.euros(kpis.get("panier_moyen")))
    row2[1].metric("CLV moyenne (12 mois)", fr.euros(kpis.get("clv_moyenne")))
    row2[2].metric(
        "Rétention moyenne (mois)", fr.pourcentage(kpis.get("taux_retention_moyen"))
    )
    row2[3].metric("Indice de Gini", fr.nombre(kpis.get("gini"), 3))
    st.caption(
        f"Achats du {fr.date(kpis.get('date_min'))} au {fr.date(kpis.get('date_max'))} · "
        f"date de référence {fr.date(kpis.get('ref_date'))} · les 20 % meilleurs clients "
        f"font {fr.pourcentage(kpis.get('part_ca_top20'))} du chiffre d'affaires"
    )


ui.page("Accueil – KPIs globaux", body)
