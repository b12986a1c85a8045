"""Analyses avancées – the Lorenz curve with the Gini index and the top-20 % share, and the
cohort retention heatmap."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lake_dashboard import api, charts, fr, ui


def body() -> None:
    concentration = api.get("/analytics/concentration")
    cols = st.columns(3)
    cols[0].metric("Indice de Gini", fr.nombre(concentration.get("gini"), 3))
    cols[1].metric(
        "CA des 20 % meilleurs clients",
        fr.pourcentage(concentration.get("part_ca_top20")),
    )
    cols[2].metric(
        "Part des clients faisant 80 % du CA",
        fr.pourcentage(concentration.get("part_clients_80pct")),
    )
    lorenz = concentration.get("lorenz") or []
    if lorenz:
        fig = charts.figure("Courbe de Lorenz du chiffre d'affaires")
        x = [p["part_clients"] * 100 for p in lorenz]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[p["part_ca_cumulee"] * 100 for p in lorenz],
                name="Lorenz",
                hovertemplate="%{y:.1f} % du CA",
            )
        )
        fig.add_trace(
            go.Scatter(x=[0, 100], y=[0, 100], name="Égalité", line={"dash": "dot"})
        )
        fig.update_xaxes(
            title="Part des clients (du plus petit au plus grand)", ticksuffix=" %"
        )
        fig.update_yaxes(title="Part cumulée du CA", ticksuffix=" %")
        st.plotly_chart(fig, width="stretch")
    st.subheader("Rétention par cohorte (mois du premier achat)")
    cohortes = api.rows("/analytics/cohortes")
    if not cohortes:
        ui.empty()
        return
    names = sorted({c["cohorte"] for c in cohortes})
    depth = max(c["mois_relatif"] for c in cohortes) + 1
    grid: list[list[float | None]] = [[None] * depth for _ in names]
    row_of = {name: i for i, name in enumerate(names)}
    for c in cohortes:
        grid[row_of[c["cohorte"]]][c["mois_relatif"]] = c["taux_retention"] * 100
    fig = charts.figure()
    fig.add_trace(
        go.Heatmap(
            z=grid,
            x=[f"M+{k}" for k in range(depth)],
            y=[fr.mois(n) for n in names],
            colorscale="Blues",
            hovertemplate="%{y}, %{x} : %{z:.1f} %<extra></extra>",
            colorbar={"ticksuffix": " %"},
        )
    )
    fig.update_layout(height=max(380, 22 * len(names)))
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(fig, width="stretch")


ui.page("Analyses avancées", body)
