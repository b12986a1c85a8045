"""Fiche client – one client's profile, RFM, CLV, ML segment, churn score and latest purchases."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, fr, ui


def body() -> None:
    # `?client=<id>` (the links of other pages) picks the client; 1 otherwise.
    asked = st.query_params.get("client", "1")
    default = int(asked) if asked.isdigit() else 1
    client = st.number_input("Identifiant client", min_value=0, value=default, step=1)
    st.query_params["client"] = str(int(client))
    try:
        fiche = api.get(f"/clients/{int(client)}")
    except api.ApiError as error:
        if error.status == 404:
            st.warning(f"Aucun client {int(client)} dans les données servies.")
            return
        raise
    profil = fiche.get("profil") or {}
    st.subheader(profil.get("nom") or f"Client {int(client)}")
    cols = st.columns(4)
    cols[0].metric("Pays", profil.get("pays") or fr.MISSING)
    cols[1].metric("Inscription", fr.date(profil.get("date_inscription")))
    cols[2].metric("Achats", fr.nombre(profil.get("nb_achats")))
    cols[3].metric("CA total", fr.euros(profil.get("ca_total")))
    rfm, clv = fiche.get("rfm") or {}, fiche.get("clv") or {}
    segment, churn = fiche.get("segment_ml") or {}, fiche.get("churn") or {}
    cols = st.columns(4)
    cols[0].metric("Segment RFM", rfm.get("segment") or fr.MISSING)
    cols[1].metric("CLV 12 mois", fr.euros(clv.get("clv_12m")))
    # A segment's name is too long for a metric box.
    cols[2].markdown(f"Segment ML\n\n**{segment.get('libelle') or fr.MISSING}**")
    cols[3].metric(
        "Risque de churn",
        churn.get("risque") or fr.MISSING,
        help=f"Probabilité {fr.pourcentage(churn.get('score_churn'))}",
    )
    st.subheader("Derniers achats")
    achats = fiche.get("derniers_achats") or []
    if not achats:
        ui.empty("Ce client n'a encore rien acheté.")
        return
    ui.table(
        [
            {
                "Achat": a["id_achat"],
                "Date": fr.date(a["date_achat"]),
                "Produit": a["produit"],
                "Montant": fr.euros(a["montant"]),
            }
            for a in achats
        ]
    )


ui.page("Fiche client", body)
