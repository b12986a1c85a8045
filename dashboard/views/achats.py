"""Achats – purchases with filters and keyset pagination over `/achats`, and the shown page as
CSV."""

from __future__ import annotations

import csv
import io

import streamlit as st

from lake_dashboard import api, fr, ui

CURSORS = "achats_curseurs"
FILTERS = "achats_filtres"


def csv_of(achats: list[dict[str, object]]) -> str:
    columns = ["id_achat", "id_client", "date_achat", "montant", "produit", "pays"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(achats)
    return out.getvalue()


def body() -> None:
    cols = st.columns(4)
    client = cols[0].text_input("Client (identifiant)")
    pays = cols[1].text_input("Pays")
    produit = cols[2].text_input("Produit")
    limit = cols[3].selectbox("Par page", [20, 50, 100, 500], index=1)
    cols = st.columns(4)
    debut = cols[0].date_input("Du", value=None, format="DD/MM/YYYY")
    fin = cols[1].date_input("Au", value=None, format="DD/MM/YYYY")
    tri = cols[2].selectbox(
        "Trier par",
        ["date_achat", "montant"],
        format_func=lambda t: t.replace("_", " "),
    )
    ordre = cols[3].selectbox(
        "Ordre",
        ["desc", "asc"],
        format_func=lambda o: "décroissant" if o == "desc" else "croissant",
    )
    if client.strip() and not client.strip().isdigit():
        st.warning("L'identifiant client est un nombre entier.")
        return
    filters = {
        "client": client.strip() or None,
        "pays": pays.strip() or None,
        "produit": produit.strip() or None,
        "debut": debut.isoformat() if debut else None,
        "fin": fin.isoformat() if fin else None,
        "tri": tri,
        "ordre": ordre,
        "limit": limit,
    }
    # New filters start again from the first page.
    if st.session_state.get(FILTERS) != filters:
        st.session_state[FILTERS] = filters
        st.session_state[CURSORS] = [None]
    cursors: list[str | None] = st.session_state[CURSORS]
    body = api.get("/achats", **filters, apres=cursors[-1])
    achats = body.get("data", [])
    if not achats:
        ui.empty("Aucun achat ne correspond à ces filtres.")
    else:
        ui.table(
            [
                {
                    "Achat": a["id_achat"],
                    "Client": a["id_client"],
                    "Date": fr.date(a["date_achat"]),
                    "Heure": a["date_achat"][11:16],
                    "Produit": a["produit"],
                    "Pays": a["pays"] or fr.MISSING,
                    "Montant": fr.euros(a["montant"]),
                }
                for a in achats
            ]
        )
    cols = st.columns(3)
    if cols[0].button("Page précédente", disabled=len(cursors) == 1):
        cursors.pop()
        st.rerun()
    cols[1].write(f"Page {len(cursors)}")
    if cols[2].button("Page suivante", disabled=body.get("next") is None):
        cursors.append(body["next"])
        st.rerun()
    st.download_button(
        "Télécharger cette page (CSV)",
        csv_of(achats),
        file_name=f"achats-page-{len(cursors)}.csv",
        mime="text/csv",
        disabled=not achats,
    )


ui.page("Achats", body)
