"""Temps réel – the stream processor's windows and alerts (`/temps-reel/*`), refreshed every
few seconds. They live in MongoDB: without it the API says so, and this page says it in French."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, fr, ui

REFRESH_SECONDS = 5


@st.fragment(run_every=REFRESH_SECONDS)
def live() -> None:
    try:
        alertes = api.live("/temps-reel/alertes", limit=20).get("data", [])
        fenetres = api.live("/temps-reel/fenetres", limit=50).get("data", [])
    except api.ApiError as error:
        if error.status == 503:
            st.info(
                "Le temps réel n'est disponible que lorsque l'API lit MongoDB "
                "(`lake-api --mongo-url …`) et que le processeur de flux tourne "
                "(`lake stream process`).",
                icon=":material/info:",
            )
            return
        st.error(str(error), icon=":material/error:")
        return
    st.caption(f"Actualisé toutes les {REFRESH_SECONDS} secondes.")
    st.subheader("Alertes")
    if not alertes:
        ui.empty("Aucune alerte.")
    else:
        ui.table(alertes)
    st.subheader("Dernières fenêtres")
    if not fenetres:
        ui.empty("Aucune fenêtre écrite pour l'instant.")
    else:
        ui.table(fenetres)
    st.caption(f"{fr.nombre(len(fenetres))} fenêtres affichées.")


ui.page("Temps réel", live)
