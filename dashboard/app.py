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
            "pages/accueil.py",
            title="Accueil – KPIs globaux",
            icon=":material/home:",
            default=True,
        ),
        st.Page(
            "pages/fraicheur.py",
            title="Fraîcheur des données",
            icon=":material/schedule:",
        ),
        st.Page(
            "pages/qualite.py",
            title="Qualité des données",
            icon=":material/fact_check:",
        ),
    ],
    "Ventes": [
        st.Page(
            "pages/evolution.py",
            title="Évolution temporelle",
            icon=":material/show_chart:",
        ),
        st.Page(
            "pages/geographie.py",
            title="Analyse géographique",
            icon=":material/public:",
        ),
        st.Page(
            "pages/produits.py",
            title="Performance produits",
            icon=":material/inventory_2:",
        ),
        st.Page(
            "pages/saisonnalite.py",
            title="Saisonnalité",
            icon=":material/calendar_month:",
        ),
    ],
    "Clients": [
        st.Page("pages/rfm.py", title="Segmentation RFM", icon=":material/target:"),
        st.Page(
            "pages/clv.py", title="Customer Lifetime Value", icon=":material/euro:"
        ),
        st.Page(
            "pages/retention.py", title="Rétention & churn", icon=":material/autorenew:"
        ),
        st.Page(
            "pages/segments_ml.py", title="Segments ML", icon=":material/psychology:"
        ),
        st.Page(
            "pages/fiche_client.py", title="Fiche client", icon=":material/person:"
        ),
        st.Page("pages/achats.py", title="Achats", icon=":material/receipt_long:"),
    ],
    "Analyses": [
        st.Page(
            "pages/avancees.py", title="Analyses avancées", icon=":material/analytics:"
        ),
        st.Page("pages/temps_reel.py", title="Temps réel", icon=":material/bolt:"),
    ],
}

st.navigation(PAGES).run()
