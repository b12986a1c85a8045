"""Fraîcheur des données – which versions are served, since when."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, fr, ui


def body() -> None:
    served = api.freshness()
    st.metric("Version Gold servie", served.get("gold_version") or fr.MISSING)
    st.metric("Version ML servie", served.get("ml_version") or fr.MISSING)
    st.markdown(
        "\n".join(
            [
                f"- **Données au** : {fr.date(served.get('as_of'))}",
                f"- **Gold publiée le** : {fr.horodatage(served.get('gold_published_at'))}",
                f"- **Chargée par l'API le** : {fr.horodatage(served.get('loaded_at'))}",
                f"- **Magasin servi** : {served.get('store', fr.MISSING)}",
                f"- **API** : {api.settings().url}",
            ]
        )
    )
    st.caption(
        "Chaque page vérifie la version servie toutes les "
        f"{fr.nombre(ui.WATCH_SECONDS, 0)} secondes et se redessine d'elle-même quand une "
        "nouvelle version est publiée."
    )


ui.page("Fraîcheur des données", body)
