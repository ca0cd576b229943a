"""A real FHIR R4 server on loopback for the sync tests: sekmet-fhir (FastAPI + SQLite, pinned in
pyproject's `test` extra) started as a subprocess on 127.0.0.1 and a free port, its SQLite database
and everything else it writes in a directory of the test's, stopped on exit.

What the sync relies on and sekmet does as a FHIR server would (tests/sync/test_fhir_server.py):
transaction Bundles with urn:uuid references and `ifNoneExist`, conditional create, ETags
`W/"n"` and If-Match (412 when stale). Its workflow simulator (which answers ServiceRequests, Tasks,
Appointments… with resources of its own) is switched off, so the server holds only what was sent.

SMART mode (`smart=True`): sekmet's SMART Backend Services token endpoint. Clients are registered
in sekmet's settings before it starts (`server_auth.smart_clients`: a client id, its allowed scopes
and its public JWKS inline; sekmet also takes a `jwks_url` or a PEM path, not used here). A client
POSTs `grant_type=client_credentials` with a `client_assertion` JWT (RS384/ES384/RS256/ES256;
iss = sub = client id, aud = the token URL, exp at most 5 min ahead, a jti used once) and gets an
HS256 access token for `base_url`, checked with its scopes on every /fhir request. `/metadata` is
open. The harness's own helpers (search, read, count, `session`) carry a static bearer token of
their own, so that inspecting the server never spends the client's assertions.

    with fhir_server(tmp_path, smart=True) as server:
        server.smart.token_url, server.smart.client_id, server.smart.key   # what a cart needs
        token = server.smart.token()                                        # or do it by hand
        requests.post(server.base_url, json=bundle, headers={"Authorization": f"Bearer {token}"})
        assert server.count("Patient") == 1
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from tests.live import free_port
from tests.sync import uvicorn_process

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ID = "telecart-cart-test"
FHIR_JSON = "application/fhir+json"


@dataclass
class SmartClient:
    """A backend-services client registered with the server: what a cart needs to get a token."""

    client_id: str
    token_url: str
    smart_configuration_url: str
    jwks: dict[str, Any]             # the public keys registered for the client
    key: ECKey | None                # the private key, when the harness made it (ES384, P-384)
    alg: str = "ES384"
    scope: str = "system/*.cruds"    # the scopes the client may be granted

    def assertion(self, lifetime: int = 240, jti: str | None = None) -> str:
        """A client-assertion JWT signed with `key` (SMART Backend Services §4.1)."""
        if self.key is None:
            raise ValueError("the client's key was given by the test (jwks=...): sign with it there")
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url, "iat": now,
                  "exp": now + lifetime, "jti": jti or uuid.uuid4().hex}
        return jwt.encode({"alg": self.alg, "typ": "JWT", "kid": self.key.kid}, claims, self.key, algorithms=[self.alg])

    def token(self, scope: str | None = None) -> str:
        """An access token obtained with a fresh assertion."""
        reply = requests.post(self.token_url, timeout=10, data={
            "grant_type": "client_credentials", "scope": scope or self.scope,
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.assertion()})
        reply.raise_for_status()
        return reply.json()["access_token"]


@dataclass
class FhirServer:
    base_url: str                       # the FHIR base, http://127.0.0.1:PORT/fhir (no trailing slash)
    port: int
    directory: Path                     # sekmet's settings, SQLite database and log
    smart: SmartClient | None = None    # None unless smart=True
    proc: subprocess.Popen[bytes] | None = None
    session: requests.Session = field(default_factory=requests.Session)  # authorised in SMART mode

    @property
    def log_path(self) -> Path:
        return self.directory / "sekmet.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def search(self, resource_type: str, **params: Any) -> list[dict[str, Any]]:
        """Every matching resource (search mode `match`), following the `next` links. Parameter names
        with a modifier or a dot are given as `**{"identifier:exact": ...}`."""
        found: list[dict[str, Any]] = []
        url: str | None = self.url(resource_type)
        query: dict[str, Any] | None = {"_count": 200, **params}
        while url:
            reply = self.session.get(url, params=query, headers={"Accept": FHIR_JSON}, timeout=10)
            reply.raise_for_status()
            bundle = reply.json()
            found += [e["resource"] for e in bundle.get("entry", [])
                      if e.get("search", {}).get("mode", "match") == "match"]
            url = next((link["url"] for link in bundle.get("link", []) if link.get("relation") == "next"), None)
            query = None  # the next link carries them
        return found

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """The resource; requests.HTTPError when the server has none (404) or it was deleted (410)."""
        reply = self.session.get(self.url(f"{resource_type}/{resource_id}"), headers={"Accept": FHIR_JSON}, timeout=10)
        reply.raise_for_status()
        return reply.json()

    def count(self, resource_type: str, **params: Any) -> int:
        """How many resources of this type (matching `params`) the server holds (`_summary=count`)."""
        reply = self.session.get(self.url(resource_type), params={"_summary": "count", **params},
                                 headers={"Accept": FHIR_JSON}, timeout=10)
        reply.raise_for_status()
        return int(reply.json()["total"])

    def start(self, timeout: float = 30.0) -> None:
        """Starts it (again, after stop(): same port, same database); returns once /metadata answers."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKMET_")}
        env["SEKMET_CONFIG"] = str(self.directory / "settings.yaml")

        def ready() -> bool:
            reply = requests.get(self.url("metadata"), headers={"Accept": FHIR_JSON}, timeout=1)
            return reply.status_code == 200 and reply.json().get("fhirVersion", "").startswith("4.0")
        # uvicorn itself rather than `sekmet serve`, for a quiet log: warnings and errors only
        self.proc = uvicorn_process.start("sekmet.main:app_factory", self.port, self.directory, env, self.log_path, ready, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the process (SIGTERM, SIGKILL after `timeout`); the database stays for start()."""
        uvicorn_process.stop(self.proc, timeout)


def _settings(server: FhirServer, inspector_token: str | None, token_lifetime: int) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "base_url": server.base_url, "host": "127.0.0.1", "port": server.port,
        "data_dir": str(server.directory), "db_path": str(server.directory / "sekmet.db"),
        "own_private_key_path": str(server.directory / "keys" / "sekmet_private.pem"),
        "simulator": {"enabled": False},   # no resources of its own in answer to ours
        "log_inbound": False,               # no traffic log of every request in the database
        "validation": {"inbound": "strict"},  # fhir.resources R4B models: a malformed resource gets 400/422
    }
    if server.smart is not None:
        settings["server_auth"] = {
            "types": ["smart", "bearer"], "tokens": [inspector_token], "token_lifetime": token_lifetime,
            "enforce_scopes": True,
            "smart_clients": [{"client_id": server.smart.client_id, "jwks": server.smart.jwks, "scopes": server.smart.scope}],
        }
    return settings


@contextlib.contextmanager
def fhir_server(tmp_path: Path, smart: bool = False, *, client_id: str = CLIENT_ID, jwks: dict[str, Any] | None = None,
                scope: str = "system/*.cruds", token_lifetime: int = 3600, port: int | None = None,
                timeout: float = 30.0) -> Iterator[FhirServer]:
    """sekmet on 127.0.0.1 and a free port, its database in a fresh directory under `tmp_path`,
    ready (`/metadata` answers), stopped on exit. With `smart`, only SMART Backend Services access
    tokens (and the harness's own) are accepted; `client_id` is registered with `jwks` (the public
    keys of a key the test made, e.g. the cart's own) or, when None, with an ES384 key the harness
    makes (`server.smart.key`). `token_lifetime` (s) can be made short to test token renewal.
    `port`: a port chosen beforehand (a cart configured before the server is up); free_port()'s
    otherwise. `server.stop()` then `server.start()` take it down and bring it back with its data."""
    directory = tmp_path / f"fhir-server-{uuid.uuid4().hex[:8]}"
    directory.mkdir(parents=True)
    key = None
    if smart and jwks is None:
        key = ECKey.generate_key("P-384", parameters={"alg": "ES384", "use": "sig"}, auto_kid=True)
        jwks = KeySet([key]).as_dict(private=False)
    chosen = port
    for attempt in range(3):  # free_port() can race with another process binding the port first
        port = chosen or free_port()
        base_url = f"http://127.0.0.1:{port}/fhir"
        server = FhirServer(base_url=base_url, port=port, directory=directory)
        inspector_token = None
        if smart:
            assert jwks is not None
            server.smart = SmartClient(client_id=client_id, token_url=f"http://127.0.0.1:{port}/auth/token",
                                       smart_configuration_url=f"{base_url}/.well-known/smart-configuration",
                                       jwks=jwks, key=key, scope=scope)
            inspector_token = secrets.token_urlsafe(32)
            server.session.headers["Authorization"] = f"Bearer {inspector_token}"
        (directory / "settings.yaml").write_text(json.dumps(_settings(server, inspector_token, token_lifetime), indent=2))
        try:
            server.start(timeout)
            break
        except RuntimeError:
            server.stop()
            server.session.close()
            if chosen is not None or attempt == 2 or "address already in use" not in server.log().lower():
                raise
    try:
        yield server
    finally:
        server.stop()
        server.session.close()
