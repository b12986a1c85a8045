"""Segments ML – the KMeans segments (profiles, sizes, centres, silhouette) and the models'
report."""

from __future__ import annotations

import streamlit as st

from lake_dashboard import api, fr, ui


def body() -> None:
    segments = api.rows("/ml/segments")
    rapport = api.rows("/ml/rapport")
    statuts = {
        r["modele"]: r["texte"]
        for r in rapport
        if r["indicateur"] == "statut" and r["texte"]
    }
    if not segments:
        ui.empty(statuts.get("segmentation", "Aucun segment publié."))
    else:
        st.metric("Silhouette du k choisi", fr.nombre(segments[0]["silhouette"], 3))
        ui.table(
            [
                {
                    "Segment": s["segment_ml"],
                    "Libellé": s["libelle"],
                    "Clients": fr.nombre(s["nb_clients"]),
                    "Part": fr.pourcentage(s["part_clients"]),
                    "Récence (jours)": fr.nombre(s["centre_recence_jours"], 0),
                    "Fréquence": fr.nombre(s["centre_frequence"], 1),
                    "Montant": fr.euros(s["centre_montant"]),
                    "Panier moyen": fr.euros(s["centre_panier_moyen"]),
                    "Ancienneté (jours)": fr.nombre(s["centre_anciennete_jours"], 0),
                }
                for s in segments
            ]
        )
    st.subheader("Rapport des modèles")
    if "churn" in statuts:
        st.write(f"Modèle de churn : {statuts['churn']}")
    ui.table(
        [
            {
                "Modèle": r["modele"],
                "Indicateur": r["indicateur"],
                "Valeur": fr.valeur(r["valeur"])
                if r["valeur"] is not None
                else r["texte"],
            }
            for r in rapport
        ]
    )


ui.page("Segments ML", body)
