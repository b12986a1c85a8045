"""Segmentation RFM – each segment's buyers, revenue and shares, the R × F grid, and the
buyers of a chosen segment."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from lake_dashboard import api, charts, fr, ui

SCORES = [1, 2, 3, 4, 5]
# Buyers of a segment shown at once (largest amount first).
BUYERS_SHOWN = 100


def grid(cells: list[dict[str, Any]]) -> go.Figure:
    """The R × F heatmap: buyers per (R, F) pair, the segment's name in each cell."""
    by_pair = {(c["r_score"], c["f_score"]): c for c in cells}
    counts = [
        [by_pair.get((r, f), {}).get("nb_clients", 0) for f in SCORES] for r in SCORES
    ]
    names = [
        [by_pair.get((r, f), {}).get("segment", "") for f in SCORES] for r in SCORES
    ]
    fig = charts.figure("Acheteurs par score de récence (R) et de fréquence (F)")
    fig.add_trace(
        go.Heatmap(
            x=[f"F{f}" for f in SCORES],
            y=[f"R{r}" for r in SCORES],
            z=counts,
            customdata=names,
            text=[
                [
                    f"{fr.nombre(n)}<br>{name}" if n else ""
                    for n, name in zip(row, labels, strict=True)
                ]
                for row, labels in zip(counts, names, strict=True)
            ],
            texttemplate="%{text}",
            hovertemplate="%{y} · %{x}<br>%{customdata}<br>%{z} acheteurs<extra></extra>",
            colorscale="Blues",
            colorbar={"title": "Acheteurs"},
        )
    )
    fig.update_layout(hovermode="closest", height=460)
    return fig


def segment_buyers(names: list[str]) -> None:
    chosen = st.selectbox("Segment", names, key="segment_rfm")
    buyers = api.rows("/kpis/rfm/clients", segment=chosen, limit=BUYERS_SHOWN)
    if not buyers:
        ui.empty()
        return
    st.caption(
        f"Les {fr.nombre(len(buyers))} acheteurs du segment « {chosen} » au plus fort "
        "montant (le détail d'un client est sur la page « Fiche client »)."
    )
    ui.table(
        [
            {
                "Client": b["id_client"],
                "Récence (jours)": fr.nombre(b["recence_jours"]),
                "Achats": fr.nombre(b["frequence"]),
                "Montant": fr.euros(b["montant"]),
                "Code RFM": b["rfm_code"],
            }
            for b in buyers
        ]
    )


def body() -> None:
    segments = sorted(api.rows("/kpis/rfm"), key=lambda s: s["ca"], reverse=True)
    if not segments:
        ui.empty()
        return
    fig = charts.figure("Clients et chiffre d'affaires par segment")
    names = [s["segment"] for s in segments]
    for key, name in (("part_clients", "Part des clients"), ("part_ca", "Part du CA")):
        charts.add_bars(
            fig, names, [s[key] * 100 for s in segments], "pourcentage", name
        )
    st.plotly_chart(fig, width="stretch")
    ui.table(
        [
            {
                "Segment": s["segment"],
                "Clients": fr.nombre(s["nb_clients"]),
                "Part des clients": fr.pourcentage(s["part_clients"]),
                "CA": fr.euros(s["ca"]),
                "Part du CA": fr.pourcentage(s["part_ca"]),
                "Récence moyenne (jours)": fr.nombre(s["recence_moyenne"], 1),
                "Fréquence moyenne": fr.nombre(s["frequence_moyenne"], 1),
                "Montant moyen": fr.euros(s["montant_moyen"]),
            }
            for s in segments
        ]
    )
    st.subheader("Grille R × F")
    st.plotly_chart(grid(api.rows("/kpis/rfm/grille")), width="stretch")
    st.subheader("Acheteurs d'un segment")
    segment_buyers(names)


ui.page("Segmentation RFM", body)
