"""Évolution temporelle – revenue by day, week, month or hour, and month-over-month growth."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from lake_dashboard import api, charts, fr, ui

GRAINS = {"jour": "date", "semaine": "semaine", "mois": "mois", "heure": "heure"}


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the week or month holding `day`: weekly and monthly rows are keyed on
    it, so a period starting mid-month still shows that month."""
    if grain == "mois":
        return day.replace(day=1)
    if grain == "semaine":
        return day - dt.timedelta(days=day.weekday())
    return day


def body() -> None:
    kpis = api.get("/kpis/globaux")
    grain = st.radio(
        "Grain", list(GRAINS), index=2, horizontal=True, format_func=str.capitalize
    )
    params: dict[str, object] = {"grain": grain}
    if grain != "heure" and kpis.get("date_min") and kpis.get("date_max"):
        first = dt.date.fromisoformat(kpis["date_min"])
        last = dt.date.fromisoformat(kpis["date_max"])
        chosen = st.date_input(
            "Période",
            (first, last),
            min_value=first,
            max_value=last,
            format="DD/MM/YYYY",
        )
        if isinstance(chosen, tuple) and len(chosen) == 2:
            params["debut"] = period_start(chosen[0], grain).isoformat()
            params["fin"] = chosen[1].isoformat()
    ventes = api.rows("/ventes", **params)
    if not ventes:
        ui.empty()
    else:
        key = GRAINS[grain]
        fig = charts.figure(f"Chiffre d'affaires par {grain}")
        fig.add_trace(
            go.Scatter(
                x=[v[key] for v in ventes],
                y=[v["ca"] for v in ventes],
                name="CA",
                mode="lines+markers" if len(ventes) < 60 else "lines",
                hovertemplate="%{y:,.2f} €",
            )
        )
        fig.update_yaxes(ticksuffix=" €")
        if grain != "heure":
            charts.french_dates(fig, [v[key] for v in ventes], monthly=grain == "mois")
        st.plotly_chart(fig, width="stretch")
        total = sum(v["ca"] for v in ventes)
        cols = st.columns(3)
        cols[0].metric("CA de la période", fr.euros(total))
        cols[1].metric("Achats", fr.nombre(sum(v["nb_achats"] for v in ventes)))
        cols[2].metric(
            "Panier moyen",
            fr.euros(total / max(1, sum(v["nb_achats"] for v in ventes))),
        )
    st.subheader("Croissance d'un mois sur l'autre")
    croissance = api.rows("/kpis/croissance")
    if not croissance:
        ui.empty()
        return
    fig = charts.figure()
    fig.add_trace(
        go.Bar(
            x=[c["mois"] for c in croissance],
            y=[(c["croissance_mom"] or 0) * 100 for c in croissance],
            name="Croissance",
            hovertemplate="%{y:+.1f} %",
        )
    )
    fig.update_yaxes(ticksuffix=" %")
    charts.french_dates(fig, [c["mois"] for c in croissance], monthly=True)
    st.plotly_chart(fig, width="stretch")
    ui.table(
        [
            {
                "Mois": fr.mois(c["mois"]),
                "CA": fr.euros(c["ca"]),
                "Mois précédent": fr.euros(c["ca_mois_precedent"]),
                "Croissance": fr.variation(c["croissance_mom"]),
                "Sur un an": fr.variation(c["croissance_yoy"]),
            }
            for c in croissance
        ]
    )


ui.page("Évolution temporelle", body)
