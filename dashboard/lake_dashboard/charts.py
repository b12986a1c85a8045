"""Plotly figures in the dashboard's style, with French number formats (no map: Plotly's world
maps fetch their shapes from the internet)."""

from __future__ import annotations

import plotly.graph_objects as go

# French separators for every axis and hover label: decimal comma, narrow space for thousands.
SEPARATORS = ", "


def figure(title: str | None = None) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=title,
        separators=SEPARATORS,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        height=380,
        hovermode="x unified",
    )
    return fig
