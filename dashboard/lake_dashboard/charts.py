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


# Per kind of value: the hover text's number format and text around it, and the axis suffix.
UNITS = {
    "euros": (",.2f", "", " €", " €"),
    "pourcentage": (".1f", "", " %", " %"),
    "indice": (".2f", "indice ", "", ""),
}


def add_bars(
    fig: go.Figure,
    labels: list[str],
    values: list[float],
    unit: str,
    name: str | None = None,
    horizontal: bool = False,
) -> go.Figure:
    """Bars of `values` (euros, percentages already × 100, or indices) on `fig`."""
    number, before, after, suffix = UNITS[unit]
    value_axis = "x" if horizontal else "y"
    hover = f"{before}%{{{value_axis}:{number}}}{after}"
    fig.add_trace(
        go.Bar(
            x=values if horizontal else labels,
            y=labels if horizontal else values,
            orientation="h" if horizontal else "v",
            name=name,
            hovertemplate=hover,
        )
    )
    if horizontal:
        fig.update_xaxes(ticksuffix=suffix)
    else:
        fig.update_yaxes(ticksuffix=suffix)
    return fig


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
