"""Tableau de bord du lac e-commerce: `streamlit run dashboard/app.py`.

Every page reads the lake's HTTP API (`LAKE_API_URL`, default http://127.0.0.1:8080, and
`LAKE_API_KEY`), never MongoDB nor the lake itself.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(
    page_title="Lac e-commerce", page_icon=":material/shopping_cart:", layout="wide"
)

PAGES = {
    "Vue d'ensemble": [
        st.Page(
            "views/accueil.py",
            title="Accueil – KPIs globaux",
            icon=":material/home:",
            default=True,
        ),
        st.Page(
            "views/fraicheur.py",
            title="Fraîcheur des données",
            icon=":material/schedule:",
        ),
        st.Page(
            "views/qualite.py",
            title="Qualité des données",
            icon=":material/fact_check:",
        ),
    ],
    "Ventes": [
        st.Page(
            "views/evolution.py",
            title="Évolution temporelle",
            icon=":material/show_chart:",
        ),
        st.Page(
            "views/geographie.py",
            title="Analyse géographique",
            icon=":material/public:",
        ),
        st.Page(
            "views/produits.py",
            title="Performance produits",
            icon=":material/inventory_2:",
        ),
        st.Page(
            "views/saisonnalite.py",
            title="Saisonnalité",
            icon=":material/calendar_month:",
        ),
    ],
    "Clients": [
        st.Page("views/rfm.py", title="Segmentation RFM", icon=":material/target:"),
        st.Page(
            "views/clv.py", title="Customer Lifetime Value", icon=":material/euro:"
        ),
        st.Page(
            "views/retention.py", title="Rétention & churn", icon=":material/autorenew:"
        ),
        st.Page(
            "views/segments_ml.py", title="Segments ML", icon=":material/psychology:"
        ),
        st.Page(
            "views/fiche_client.py", title="Fiche client", icon=":material/person:"
        ),
        st.Page("views/achats.py", title="Achats", icon=":material/receipt_long:"),
    ],
    "Analyses": [
        st.Page(
            "views/avancees.py", title="Analyses avancées", icon=":material/analytics:"
        ),
        st.Page("views/temps_reel.py", title="Temps réel", icon=":material/bolt:"),
    ],
}

st.navigation(PAGES).run()
