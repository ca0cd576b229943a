"""The cart's records reach the regional server (a real FHIR R4 server on loopback, sekmet): a
resident, their teleconsultation, its consent and vitals become Patient, Encounter, Consent and
Observation, each exactly once even when everything is sent again (a crash after sending, before
noting it sent); a server that cannot be reached keeps the queue, which drains once it answers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from tests.api.helpers import CartBase, logged_in, teleconsultation_now
from tests.live import free_port, running_agent
from tests.loopback import eventually
from tests.sync.fhir_server import fhir_server

pytestmark = pytest.mark.slow

KINDS = ("Patient", "Encounter", "Consent", "Observation")


def sync_status(data_dir: Path) -> str:
    return subprocess.run([sys.executable, "-m", "agent.cli", "sync", "status", "--data-dir", str(data_dir)],
                          capture_output=True, text=True, check=True).stdout


def test_a_dossier_reaches_the_server_once_however_often_it_is_sent(tmp_path: Path) -> None:
    with fhir_server(tmp_path / "fhir") as server, running_agent(
            tmp_path / "cart", sync={"fhir_base_url": server.base_url, "poll_seconds": 0.3}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        dossier, patient_id = teleconsultation_now(CartBase(agent), nurse, "REGION", {"email": "c.petit@chu.example"})
        assert nurse.post(f"{agent.url}/api/v1/dossiers/{dossier['id']}/vitals", json={"kind": "blood_pressure", "value": "135/85"}).status_code == 201
        eventually(lambda: all(server.count(kind) == 1 for kind in KINDS), timeout=20, what="one of each on the server")
        observation = server.search("Observation")[0]
        assert [c["valueQuantity"]["value"] for c in observation["component"]] == [135, 85]
        assert observation["method"]["text"] == "saisie à la main"
        assert server.search("Patient")[0]["name"][0]["family"] == "REGION"
        eventually(lambda: "en attente d'envoi : 0" in sync_status(agent.data_dir), what="the queue empty")

        agent.stop()  # as if the cart died after sending, before noting it: everything goes again
        with sqlite3.connect(agent.data_dir / DATABASE_NAME) as db:
            db.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sent'")
        agent.start()
        eventually(lambda: "en attente d'envoi : 0" in sync_status(agent.data_dir), timeout=20, what="sent again")
        assert {kind: server.count(kind) for kind in KINDS} == dict.fromkeys(KINDS, 1)


def test_the_queue_waits_for_a_server_that_does_not_answer_and_drains_when_it_does(tmp_path: Path) -> None:
    port = free_port()
    with running_agent(tmp_path / "cart", sync={"fhir_base_url": f"http://127.0.0.1:{port}/fhir", "poll_seconds": 0.3,
                                                "max_backoff_seconds": 1}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        teleconsultation_now(CartBase(agent), nurse, "ATTENTE", {"email": "c.petit@chu.example"})
        said = eventually(lambda: (s := sync_status(agent.data_dir)) and "serveur injoignable" in s and s, what="the failure said")
        assert "en attente d'envoi : 0" not in said
        with fhir_server(tmp_path / "fhir", port=port) as server:
            eventually(lambda: "en attente d'envoi : 0" in sync_status(agent.data_dir), timeout=20, what="drained once it answers")
            assert server.count("Patient") == 1 and server.count("Encounter") == 1


def test_a_change_made_on_the_server_is_never_overwritten_but_set_aside(tmp_path: Path) -> None:
    with fhir_server(tmp_path / "fhir") as server, running_agent(
            tmp_path / "cart", sync={"fhir_base_url": server.base_url, "poll_seconds": 0.3}) as agent:
        nurse = logged_in(agent, agent.add_account(Role.NURSE))
        dossier, _ = teleconsultation_now(CartBase(agent), nurse, "CONFLIT", {"email": "c.petit@chu.example"})
        eventually(lambda: server.count("Encounter") == 1 and "en attente d'envoi : 0" in sync_status(agent.data_dir),
                   timeout=20, what="the encounter on the server")
        encounter = server.search("Encounter")[0]
        encounter["reasonCode"] = [{"text": "Motif corrigé par le médecin régulateur"}]  # the region edits it
        edited = server.session.put(f"{server.base_url}/Encounter/{encounter['id']}", json=encounter)
        assert edited.status_code == 200, edited.text

        cancelled = nurse.post(f"{agent.url}/api/v1/dossiers/{dossier['id']}/cancellation", json={"reason": "Résident hospitalisé"})
        assert cancelled.status_code == 200, cancelled.text
        said = eventually(lambda: (s := sync_status(agent.data_dir)) and "en conflit" in s and s, timeout=20, what="the conflict said")
        assert "en attente d'envoi : 0" in said  # set aside for a person; the queue goes on
        listed = said.split("à voir par une personne :", 1)[1]
        assert f"télédossier (changement d'état, télédossier n° {dossier['id'][:8]})" in listed and ": en conflit" in listed and "conflit sur le serveur" in listed
        kept = server.read("Encounter", encounter["id"])
        assert (kept["reasonCode"][0]["text"], kept["status"]) == ("Motif corrigé par le médecin régulateur", "planned")
