"""Fraîcheur des données – which versions are served, since when."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lake_dashboard import api, fr, measurements, ui


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
    every = (
        "chaque seconde"
        if ui.WATCH_SECONDS == 1
        else f"toutes les {fr.nombre(ui.WATCH_SECONDS, 0)} secondes"
    )
    st.caption(
        f"Chaque page vérifie la version servie {every} et se redessine d'elle-même quand "
        "une nouvelle version est publiée."
    )
    measured_delays()


def ms(spread: dict[str, float], key: str) -> str:
    return fr.nombre(spread[key] * 1000)


def measured_delays() -> None:
    st.subheader("Délais de rafraîchissement mesurés")
    found = measurements.latest()
    if found is None:
        ui.empty(
            "Aucune mesure enregistrée : lancez `make bench-dashboard` pour mesurer le délai "
            "entre une nouvelle publication et son affichage."
        )
        return
    name, report = found
    try:
        show_report(name, report)
    except (KeyError, TypeError, ValueError):
        st.warning(f"Le fichier de mesures {name} n'a pas la forme attendue.")


def show_report(name: str, report: dict[str, Any]) -> None:
    st.caption(
        f"Mesuré le {fr.date(report.get('date'))} ({name}) : une nouvelle Gold publiée "
        f"{fr.nombre(report.get('rounds'))} fois par magasin (SF "
        f"{fr.nombre(report.get('refresh_scale'), 2)}), la page d'accueil ouverte dans "
        "Chromium ; délai jusqu'à l'affichage du nouveau CA. Objectif : bascule → pixels "
        "≤ 2 s au 95e centile."
    )
    ui.table(
        [
            {
                "Magasin": "MongoDB" if s["store"] == "mongodb" else "lac (Parquet)",
                "Chargement médian": f"{fr.nombre(s['load_s']['p50'], 2)} s",
                "Bascule → API (p50 / p95)": f"{ms(s['switch_to_api_s'], 'p50')} / "
                f"{ms(s['switch_to_api_s'], 'p95')} ms",
                "API → pixels (p50 / p95)": f"{ms(s['api_to_pixels_s'], 'p50')} / "
                f"{ms(s['api_to_pixels_s'], 'p95')} ms",
                "Bascule → pixels (p50 / p95)": f"{ms(s['switch_to_pixels_s'], 'p50')} / "
                f"{ms(s['switch_to_pixels_s'], 'p95')} ms",
            }
            for s in report.get("refresh", [])
        ]
    )
    render = report.get("render") or {}
    if render:
        st.caption(
            f"Temps d'affichage complet de chaque page (SF "
            f"{fr.nombre(report.get('render_scale'), 2)}, magasin lac), objectif ≤ 1 s au "
            "95e centile."
        )
        ui.table(
            [
                {
                    "Page": page,
                    "Depuis le menu (p50 / p95)": f"{fr.nombre(t['sidebar']['p50'], 2)} / "
                    f"{fr.nombre(t['sidebar']['p95'], 2)} s",
                    "Nouvel onglet (p50 / p95)": f"{fr.nombre(t['tab']['p50'], 2)} / "
                    f"{fr.nombre(t['tab']['p95'], 2)} s",
                }
                for page, t in render.items()
            ]
        )


ui.page("Fraîcheur des données", body)
