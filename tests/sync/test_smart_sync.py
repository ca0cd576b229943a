"""A cart proves itself to the regional server with SMART Backend Services: its key made on the
cart by `telecart sync enrol`, the printed JWKS registered by the region (sekmet in SMART mode), its
dossiers reach the server, and keep reaching it after the access token expired; a cart whose key
the region did not register sends nothing and says why in `telecart sync status`. Mutual TLS: a
cart reaches the server through a TLS proxy that requires its client certificate; without one,
nothing gets through."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agent.access.roles import Role
from tests.api.helpers import CartBase, logged_in, teleconsultation_now
from tests.live import LiveAgent, running_agent
from tests.loopback import eventually
from tests.sync.fhir_server import fhir_server
from tests.sync.mtls import certificate, tls_proxy

pytestmark = pytest.mark.slow

KINDS = ("Patient", "Encounter", "Consent")
# sekmet judges a transaction (a POST on the base) by a scope on every type; the cart's own default
# names each type it sends (what a server checking entry by entry, as HAPI's interceptor, wants).
SEKMET_SCOPE = "system/*.cruds"


def telecart(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True, check=True)


def enrol(data_dir: Path) -> tuple[str, dict[str, Any]]:
    """What the technician gives the region: the client id and the public JWKS."""
    data_dir.mkdir(parents=True)
    done = telecart("sync", "enrol", "--data-dir", str(data_dir))
    client_id = re.search(r"identifiant client « ([^»]+) »", done.stderr)
    assert client_id, done.stderr
    return client_id[1], json.loads(done.stdout)


def sync_status(agent: LiveAgent) -> str:
    return telecart("sync", "status", "--data-dir", str(agent.data_dir), "--config", str(agent.config)).stdout


def a_dossier(agent: LiveAgent, name: str) -> None:
    nurse = logged_in(agent, agent.add_account(Role.NURSE))
    teleconsultation_now(CartBase(agent), nurse, name, {"email": "c.petit@chu.example"})


def test_an_enrolled_cart_gets_a_token_sends_its_dossiers_and_renews_the_token_once_expired(tmp_path: Path) -> None:
    data_dir = tmp_path / "cart" / "data"
    client_id, jwks = enrol(data_dir)
    assert "d" not in jwks["keys"][0]
    with fhir_server(tmp_path / "fhir", smart=True, client_id=client_id, jwks=jwks, scope=SEKMET_SCOPE, token_lifetime=3) as server, \
            running_agent(tmp_path / "cart", data_dir=data_dir, sync={"fhir_base_url": server.base_url, "auth": "smart",
                                                                      "scope": SEKMET_SCOPE, "poll_seconds": 0.3}) as agent:
        said = sync_status(agent)
        assert f"authentification : SMART Backend Services, client « {client_id} », clé {jwks['keys'][0]['kid']}" in said
        a_dossier(agent, "JETON")
        eventually(lambda: all(server.count(kind) == 1 for kind in KINDS), timeout=20, what="the first dossier on the server")
        eventually(lambda: "en attente d'envoi : 0" in sync_status(agent), what="the queue empty")

        time.sleep(3.5)  # the server no longer takes the token the cart holds
        a_dossier(agent, "RENOUVELLEMENT")
        eventually(lambda: all(server.count(kind) == 2 for kind in KINDS), timeout=20, what="the second dossier on the server")
        assert server.search("Patient", family="RENOUVELLEMENT")
        assert "dernière erreur" not in sync_status(agent)
        log = agent.log()
    assert not re.search(r"eyJ[\w-]{10,}", log)  # no token nor assertion (JWTs) in the agent's log


def test_a_cart_whose_key_the_region_did_not_register_sends_nothing_and_says_why(tmp_path: Path) -> None:
    data_dir = tmp_path / "cart" / "data"
    client_id, _ = enrol(data_dir)
    # the region registered this client id with another key (the harness's own)
    with fhir_server(tmp_path / "fhir", smart=True, client_id=client_id, scope=SEKMET_SCOPE) as server, \
            running_agent(tmp_path / "cart", data_dir=data_dir, sync={"fhir_base_url": server.base_url, "auth": "smart", "scope": SEKMET_SCOPE,
                                                                      "poll_seconds": 0.3, "max_backoff_seconds": 1}) as agent:
        a_dossier(agent, "INCONNU")
        said = eventually(lambda: (s := sync_status(agent)) and "jeton refusé par le serveur régional" in s and s,
                          timeout=20, what="the refusal said")
        assert "dernière erreur : jeton refusé par le serveur régional : client_assertion verification failed" in said
        assert "en attente d'envoi : 0" not in said
        assert all(server.count(kind) == 0 for kind in KINDS)
        assert agent.proc is not None and agent.proc.poll() is None  # still running, trying again later


def test_mutual_tls_the_carts_certificate_opens_the_way_and_without_it_nothing_gets_through(tmp_path: Path) -> None:
    authority = certificate(tmp_path / "ca", "Autorité régionale de test")
    certificate(tmp_path / "server", "127.0.0.1", authority)
    certificate(tmp_path / "cart", "chariot-test", authority)
    trusting = {"poll_seconds": 0.3, "max_backoff_seconds": 1, "ca_file": str(tmp_path / "ca.pem")}
    with fhir_server(tmp_path / "fhir") as server, tls_proxy(server.port, tmp_path / "ca.pem", tmp_path / "server") as proxy:
        base = f"https://127.0.0.1:{proxy.port}/fhir"
        with running_agent(tmp_path / "anonymous", sync={"fhir_base_url": base, **trusting}) as agent:
            a_dossier(agent, "SANSCERTIFICAT")
            eventually(lambda: "serveur injoignable" in sync_status(agent), timeout=20, what="the refused handshake said")
        assert proxy.refused >= 1 and server.count("Patient") == 0

        with running_agent(tmp_path / "cart", sync={"fhir_base_url": base, "client_certificate": str(tmp_path / "cart.pem"),
                                                    "client_key": str(tmp_path / "cart.key"), **trusting}) as agent:
            assert "TLS mutuel, certificat" in sync_status(agent)
            a_dossier(agent, "CERTIFIE")
            eventually(lambda: all(server.count(kind) == 1 for kind in KINDS), timeout=20, what="the dossier through the proxy")
        assert proxy.piped >= 1
