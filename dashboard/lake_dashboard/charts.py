"""Plotly figures in the dashboard's style, with French number formats (no map: Plotly's world
maps fetch their shapes from the internet)."""

from __future__ import annotations

import plotly.graph_objects as go

from lake_dashboard import fr

# French separators for every axis and hover label: decimal comma, narrow space for thousands.
SEPARATORS = ", "


def french_dates(fig: go.Figure, values: list[str], monthly: bool) -> None:
    """Date axis labels in French: month names for monthly series, DD/MM/YYYY otherwise (Plotly's
    own month names are English)."""
    if monthly:
        fig.update_xaxes(
            tickmode="array", tickvals=values, ticktext=[fr.mois(v) for v in values]
        )
    else:
        fig.update_xaxes(tickformat="%d/%m/%Y")


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
