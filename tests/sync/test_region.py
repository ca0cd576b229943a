"""The whole teleconsultation on the regional server (a real FHIR server, sekmet, on loopback): the
consulted doctor as a Practitioner found by their RPPS, the fiche as a consult note that turns final
with the expert's signature, the end of the call on the Encounter, a Provenance for each change;
and what the region writes for the dossier comes back to it: the opinion typed there, its signed
report (a PDF), while a hostile PDF is refused with the reason shown and nothing of the cart's own
comes back twice."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import API, CartBase, audit_items, logged_in, teleconsultation_now
from tests.documents import samples
from tests.live import running_agent
from tests.loopback import eventually
from tests.sync.fhir_server import FhirServer, fhir_server
from tests.sync.outcomes import drained

pytestmark = pytest.mark.slow
RPPS = "10101234567"


def from_region(server: FhirServer, encounter_id: str, title: str, content_type: str, data: bytes, **extra: Any) -> None:
    """What a regional platform writes for the dossier: a DocumentReference on its Encounter."""
    resource = {"resourceType": "DocumentReference", "status": "current", "date": "2026-12-06T11:00:00+01:00",
                "author": [{"display": "Dr Claire PETIT"}], "context": {"encounter": [{"reference": f"Encounter/{encounter_id}"}]},
                "content": [{"attachment": {"contentType": content_type, "title": title, "data": base64.b64encode(data).decode(),
                                            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode()}}], **extra}  # noqa: S324
    made = server.session.post(server.url("DocumentReference"), json=resource, headers={"Content-Type": "application/fhir+json"})
    assert made.status_code == 201, made.text


def test_the_teleconsultation_reaches_the_region_and_what_it_writes_comes_back(tmp_path: Path) -> None:
    with fhir_server(tmp_path / "fhir") as server, running_agent(
            tmp_path / "cart", sync={"fhir_base_url": server.base_url, "poll_seconds": 0.3, "pull_seconds": 0.5}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        doctor = logged_in(agent, agent.add_account(Role.DOCTOR))
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        cart = CartBase(agent)
        dossier, patient_id = teleconsultation_now(cart, nurse, "REGION", {"email": "c.petit@chu.example", "rpps": RPPS})
        path = f"{agent.url}{API}/dossiers/{dossier['id']}"
        assert nurse.patch(f"{path}/fiche", json={"reason": "Plaie du talon", "history": "Diabète\nAVC en 2019"}).status_code == 200
        assert nurse.post(f"{path}/vitals", json={"kind": "temperature", "value": "37,8"}).status_code == 201
        bilan = nurse.post(f"{path}/documents", files={"file": ("bilan.pdf", samples.pdf(), "application/pdf")}, data={"kind": "resultat"})
        assert bilan.status_code == 201, bilan.text
        assert nurse.post(f"{path}/transitions", json={"to": "in_progress"}).status_code == 200
        assert nurse.post(f"{path}/end", json={"rating": 5, "send": []}).status_code == 200
        assert doctor.patch(f"{path}/fiche", json={"expert_opinion": "Pansement hydrocolloïde, revoir à J7"}).status_code == 200
        assert doctor.post(f"{path}/signature").status_code == 200

        def signed_note() -> dict[str, Any] | None:
            found = [c for c in server.search("Composition") if c.get("status") == "final"]
            return found[0] if found else None
        note = eventually(signed_note, timeout=30, what="the signed consult note on the server")
        # The note is built from the dossier as it is when its first entry goes: it may be final on
        # the server before the end of the call is. What follows reads the queue sent to its end.
        eventually(drained(agent.data_dir), timeout=30, what="the cart's queue sent")
        note = signed_note()
        assert note is not None
        assert server.count("Composition") == 1  # kept up to date, never a second one
        assert [s["title"] for s in note["section"]] == ["Motif de la téléconsultation", "Histoire de la maladie, antécédents",
                                                         "Constantes", "Avis de l'expert"]
        assert note["attester"][0]["party"]["display"].startswith("Test ")
        practitioners = server.search("Practitioner")
        assert len(practitioners) == 1 and practitioners[0]["identifier"][0] == {
            "system": "https://rpps.esante.gouv.fr", "value": RPPS,
            "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "RPPS"}]}}
        encounter = server.search("Encounter")[0]
        assert encounter["status"] == "finished"
        booked = server.search("Appointment")
        assert len(booked) == 1 and booked[0]["status"] == "fulfilled"
        assert encounter["participant"][0]["individual"]["identifier"]["value"] == RPPS
        signer = eventually(lambda: [p for p in server.search("Provenance") for a in p["agent"]
                                     if a.get("who", {}).get("display", "").startswith("Test ")], what="the signature's provenance")
        assert signer[0]["target"] == [{"reference": f"Composition/{note['id']}"}]
        assert all(p["target"] for p in server.search("Provenance"))

        # The region writes for the dossier: the opinion, the signed report, and a PDF with a script
        from_region(server, encounter["id"], "Avis du dermatologue", "text/plain; charset=utf-8",
                    "Ulcère artériel probable.\nDoppler artériel des membres inférieurs sous 8 jours.".encode())
        report = samples.pdf(("Compte rendu signé", "Dr Claire PETIT"))
        from_region(server, encounter["id"], "Compte rendu signé.pdf", "application/pdf", report,
                    type={"coding": [{"system": "http://loinc.org", "code": "11488-4"}]})
        from_region(server, encounter["id"], "Pièce jointe", "application/pdf", samples.edited(samples.open_action_script))

        def received() -> list[dict[str, Any]] | None:
            items = nurse.get(path).json()["from_region"]
            return items if len(items) == 3 else None
        items = {i["title"]: i for i in eventually(received, timeout=30, what="the region's three items in the dossier")}
        assert items["Avis du dermatologue"]["kind"] == "note"
        assert "Doppler artériel" in items["Avis du dermatologue"]["text"]
        assert items["Avis du dermatologue"]["author"] == "Dr Claire PETIT"
        assert items["Pièce jointe"]["kind"] == "refused" and "éléments actifs" in items["Pièce jointe"]["text"]
        documents = nurse.get(path).json()["documents"]
        got = [d for d in documents if d["from_region"]]
        assert [(d["name"], d["kind"]) for d in got] == [("Compte rendu signé.pdf", "compte_rendu")]
        download = nurse.get(f"{path}/documents/{got[0]['id']}")
        assert download.content == report
        assert [d["name"] for d in documents if not d["from_region"]] == ["bilan.pdf"]  # the cart's own never comes back

        actions = [r["action"] for r in audit_items(agent, admin, patient_id=patient_id)]
        assert actions.count("region.note") == 1 and actions.count("region.document") == 2
        time.sleep(1.5)  # three more pull rounds take nothing twice
        assert len(nurse.get(path).json()["from_region"]) == 3
        assert len([d for d in nurse.get(path).json()["documents"] if d["from_region"]]) == 1
        assert server.count("DocumentReference") == 4  # the cart's bilan and the region's three: nothing sent back

        # the audit trail's head is reported, its hash the cart's own for that record
        heads = eventually(lambda: server.search("AuditEvent"), what="the audit head on the server")
        with sqlite3.connect(agent.data_dir / DATABASE_NAME) as db:
            for head in heads:
                seq, digest = (d["valueString"] for d in head["entity"][0]["detail"])
                assert db.execute("SELECT hash FROM audit WHERE seq = ?", [int(seq)]).fetchone()[0] == digest


def test_a_signed_dossier_leaves_the_cart_once_the_region_has_all_of_it(tmp_path: Path) -> None:
    with fhir_server(tmp_path / "fhir") as server, running_agent(
            tmp_path / "cart", sync={"fhir_base_url": server.base_url, "poll_seconds": 0.3, "pull_seconds": 0.5,
                                     "retention_days": 0}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        doctor = logged_in(agent, agent.add_account(Role.DOCTOR))
        admin = logged_in(agent, agent.add_account(Role.ADMIN))
        dossier, patient_id = teleconsultation_now(CartBase(agent), nurse, "PURGE", {"email": "c.petit@chu.example"})
        path = f"{agent.url}{API}/dossiers/{dossier['id']}"
        photo = nurse.post(f"{path}/documents", files={"file": ("plaie.png", samples.image(), "image/png")}, data={"kind": "photo"})
        assert photo.status_code == 201, photo.text
        assert nurse.post(f"{path}/transitions", json={"to": "in_progress"}).status_code == 200
        assert doctor.patch(f"{path}/fiche", json={"expert_opinion": "Cicatrisation en bonne voie"}).status_code == 200
        blobs = {p.name for p in (agent.data_dir / "blobs").rglob("*") if p.is_file()}
        assert nurse.get(path).status_code == 200
        time.sleep(1.5)  # confirmed but still open: kept
        assert nurse.get(path).status_code == 200

        assert doctor.post(f"{path}/signature").status_code == 200
        eventually(lambda: nurse.get(path).status_code == 404, timeout=30, what="the dossier purged from the cart")
        assert server.count("DocumentReference") == 1 and server.search("Composition")[0]["status"] == "final"  # the region has it all
        left = {p.name for p in (agent.data_dir / "blobs").rglob("*") if p.is_file()}
        assert blobs and not (blobs & left)  # the photo's file is gone too
        assert nurse.get(f"{agent.url}{API}/patients/{patient_id}").status_code == 200  # the resident stays
        purge = [r for r in audit_items(agent, admin, patient_id=patient_id) if r["action"] == "dossier.purge"]
        assert len(purge) == 1 and "confirmé par le serveur régional" in purge[0]["detail"]
