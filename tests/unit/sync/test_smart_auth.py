"""The cart's SMART Backend Services credentials: its key made once on the cart (0600, a stable
kid), the client assertion the region's authorisation server checks (ES384, iss = sub = client id,
aud = the token URL, a short life, a jti never reused), the access token kept until shortly before
it expires and dropped when the server refuses it; every failure said in French for the technician,
never with a token in it. Against an aiohttp token endpoint on loopback that checks what it gets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import ssl
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import ECKey

from agent.config import SyncConfig
from agent.store.database import DATABASE_NAME
from cloud_sync import smart_auth
from cloud_sync.fhir_client import Answer, FhirClient
from cloud_sync.smart_auth import ASSERTION_TYPE, AuthError, SmartToken, StaticBearer
from tests.live import free_port
from tests.notify.servers import run_async
from tests.sync.mtls import certificate

T = TypeVar("T")
CLIENT = "chariot-12"
SCOPE = "system/Patient.crus system/Observation.crus"


@dataclass
class Region:
    """A token endpoint (and a FHIR base taking only its tokens) as SMART Backend Services says."""

    root: str = ""
    public: ECKey | None = None
    answer: Callable[[], web.Response] | None = None  # instead of a token: garbage, a 400, a 503…
    lifetime: int = 3600
    forms: list[dict[str, str]] = field(default_factory=list)
    assertions: list[Any] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # tokens the FHIR base no longer takes
    discoveries: int = 0
    seen_tokens: list[str] = field(default_factory=list)

    @property
    def fhir(self) -> str:
        return f"{self.root}/fhir"

    @property
    def token_url(self) -> str:
        return f"{self.root}/auth/token"

    async def smart_configuration(self, request: web.Request) -> web.Response:
        self.discoveries += 1
        return web.json_response({"token_endpoint": self.token_url, "grant_types_supported": ["client_credentials"]})

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.forms.append(form)  # type: ignore[arg-type]
        if self.answer:
            return self.answer()
        assert self.public is not None
        self.assertions.append(jwt.decode(form["client_assertion"], self.public, algorithms=["ES384"]))
        issued = f"token-{len(self.issued) + 1}"
        self.issued.append(issued)
        return web.json_response({"access_token": issued, "token_type": "bearer", "expires_in": self.lifetime, "scope": form["scope"]})

    async def transaction(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.seen_tokens.append(token)
        if token in self.refused or not token:
            return web.json_response({"resourceType": "OperationOutcome", "issue": [{"diagnostics": "Access token expired"}]}, status=401)
        return web.json_response({"resourceType": "Bundle", "type": "transaction-response", "entry": []})


def run(coroutine: Callable[[], Awaitable[T]]) -> T:
    return run_async(coroutine())  # a thread of its own: Playwright may hold this worker's loop


@contextlib.asynccontextmanager
async def region(public: ECKey | None) -> AsyncIterator[Region]:
    found = Region(public=public)
    app = web.Application()
    app.router.add_get("/fhir/.well-known/smart-configuration", found.smart_configuration)
    app.router.add_post("/auth/token", found.token)
    app.router.add_post("/fhir", found.transaction)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found.root = str(server.make_url("")).rstrip("/")
    try:
        yield found
    finally:
        await server.close()


@pytest.fixture
def key(tmp_path: Path) -> ECKey:
    return smart_auth.make_key(tmp_path)[0]


def public(key: ECKey) -> ECKey:
    return ECKey.import_key(smart_auth.public_jwks(key)["keys"][0])


def config(place: Region | None = None, **values: Any) -> SyncConfig:
    defaults = {"fhir_base_url": place.fhir if place else "http://127.0.0.1:9/fhir", "auth": "smart", "scope": SCOPE, "timeout_seconds": 5}
    return SyncConfig(**{**defaults, **values})


# --- the key ----------------------------------------------------------------------------------


def test_the_key_is_made_once_readable_by_the_agent_alone_and_only_its_public_half_is_shown(tmp_path: Path) -> None:
    key, made = smart_auth.make_key(tmp_path)
    again, made_again = smart_auth.make_key(tmp_path)
    assert (made, made_again) == (True, False)
    assert again.kid == key.kid == key.thumbprint()  # stable: the kid the region registered stays right
    path = smart_auth.key_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob(".*tmp"))
    [shown] = smart_auth.public_jwks(key)["keys"]
    assert shown["kty"] == "EC" and shown["crv"] == "P-384" and shown["alg"] == "ES384" and shown["kid"] == key.kid
    assert "d" not in shown
    renewed, made_new = smart_auth.make_key(tmp_path, replace=True)
    assert made_new and renewed.kid != key.kid and smart_auth.read_key(tmp_path).kid == renewed.kid  # type: ignore[union-attr]


def test_a_damaged_key_file_is_said_not_replaced(tmp_path: Path) -> None:
    smart_auth.make_key(tmp_path)
    smart_auth.key_path(tmp_path).write_text("{abîmé")
    with pytest.raises(AuthError, match="clé SMART du chariot illisible"):
        smart_auth.make_key(tmp_path)
    assert smart_auth.key_path(tmp_path).read_text() == "{abîmé"


# --- the assertion and the token --------------------------------------------------------------


def test_the_assertion_carries_what_backend_services_requires(key: ECKey) -> None:
    async def scenario() -> tuple[str, str]:
        async with aiohttp.ClientSession() as http:
            token = SmartToken(http, config(), key, CLIENT)
            return token.assertion("https://iam.example/token"), token.assertion("https://iam.example/token")

    first, second = run(scenario)
    decoded = jwt.decode(first, public(key), algorithms=["ES384"])
    assert decoded.header == {"alg": "ES384", "typ": "JWT", "kid": key.kid}
    claims = decoded.claims
    assert claims["iss"] == claims["sub"] == CLIENT and claims["aud"] == "https://iam.example/token"
    now = time.time()
    assert claims["iat"] <= now + 1 and now < claims["exp"] <= now + 300
    assert claims["jti"] != jwt.decode(second, public(key), algorithms=["ES384"]).claims["jti"]


def test_the_token_endpoint_is_discovered_and_the_token_kept_until_shortly_before_it_expires(key: ECKey) -> None:
    async def scenario() -> tuple[Region, list[dict[str, str]]]:
        async with region(public(key)) as place, aiohttp.ClientSession() as http:
            place.lifetime = 1
            token = SmartToken(http, config(place), key, CLIENT)
            said = [await token.headers(), await token.headers()]
            await asyncio.sleep(0.85)  # a 1 s token is renewed a fifth of its life early
            said.append(await token.headers())
            return place, said

    place, said = run(scenario)
    assert said == [{"Authorization": "Bearer token-1"}] * 2 + [{"Authorization": "Bearer token-2"}]
    assert place.discoveries == 1
    form = place.forms[0]
    assert (form["grant_type"], form["client_assertion_type"], form["scope"]) == ("client_credentials", ASSERTION_TYPE, SCOPE)
    assert place.assertions[0].claims["aud"] == place.token_url


def test_a_configured_token_url_is_used_without_discovery(key: ECKey) -> None:
    async def scenario() -> Region:
        async with region(public(key)) as place, aiohttp.ClientSession() as http:
            await SmartToken(http, config(place, token_url=place.token_url), key, CLIENT).headers()
            return place

    place = run(scenario)
    assert place.discoveries == 0 and place.issued == ["token-1"]


def test_a_token_the_server_refuses_is_forgotten_and_the_entry_sent_again_at_once_with_a_new_one(key: ECKey) -> None:
    async def scenario() -> tuple[Region, Answer]:
        async with region(public(key)) as place, aiohttp.ClientSession() as http:
            auth = SmartToken(http, config(place), key, CLIENT)
            client = FhirClient(http, config(place), auth)
            await auth.headers()
            place.refused.add("token-1")  # revoked, or the server restarted with a new secret
            return place, await client.send("{}")

    place, answer = run(scenario)
    assert (answer.outcome, answer.error) == ("sent", None)
    assert place.seen_tokens == ["token-1", "token-2"]


def test_a_second_refusal_waits_for_the_back_off_and_a_fixed_token_is_not_tried_twice(key: ECKey) -> None:
    async def scenario() -> tuple[Region, list[Answer]]:
        async with region(public(key)) as place, aiohttp.ClientSession() as http:
            place.refused.update({"token-1", "token-2", "fixe"})
            smart = FhirClient(http, config(place), SmartToken(http, config(place), key, CLIENT))
            fixed = FhirClient(http, config(place), StaticBearer("fixe"))
            return place, [await smart.send("{}"), await fixed.send("{}")]

    place, answers = run(scenario)
    assert place.seen_tokens == ["token-1", "token-2", "fixe"]
    assert [a.outcome for a in answers] == ["retry", "retry"] and all("HTTP 401" in str(a.error) for a in answers)


def _garbage() -> web.Response:
    return web.Response(text="<html>proxy</html>", content_type="text/html")


def _unknown_client() -> web.Response:
    return web.json_response({"error": "invalid_client", "error_description": "Unknown client_id 'chariot-12'"}, status=401)


def _bad_scope() -> web.Response:
    return web.json_response({"error": "invalid_scope"}, status=400)


def _busy() -> web.Response:
    return web.Response(text="<html>Service Unavailable</html>", status=503, content_type="text/html")


def _no_token() -> web.Response:
    return web.json_response({"token_type": "bearer", "expires_in": 300})


@pytest.mark.parametrize(("answer", "said"), [
    (_garbage, "réponse illisible du serveur d'autorisation (HTTP 200)"),
    (_unknown_client, "jeton refusé par le serveur régional : Unknown client_id 'chariot-12'"),
    (_bad_scope, "jeton refusé par le serveur régional : invalid_scope"),
    (_busy, "serveur d'autorisation indisponible (HTTP 503)"),
    (_no_token, "réponse illisible du serveur d'autorisation (pas de jeton utilisable)"),
])
def test_a_token_endpoint_that_gives_no_token_is_said_in_french_and_tried_again_later(
        key: ECKey, answer: Callable[[], web.Response], said: str) -> None:
    async def scenario() -> tuple[str, Answer, Region]:
        async with region(public(key)) as place, aiohttp.ClientSession() as http:
            place.answer = answer
            auth = SmartToken(http, config(place), key, CLIENT)
            with pytest.raises(AuthError) as raised:
                await auth.headers()
            return str(raised.value), await FhirClient(http, config(place), auth).send("{}"), place

    error, sent, place = run(scenario)
    assert error == said
    assert (sent.outcome, sent.error, sent.retry_after) == ("retry", said, None)
    assert place.seen_tokens == []  # nothing reached the FHIR server
    assert all(form["client_assertion"] not in error for form in place.forms)


def test_an_authorisation_server_that_cannot_be_reached_or_discovered_is_said(key: ECKey) -> None:
    async def scenario() -> list[str]:
        said = []
        async with aiohttp.ClientSession() as http:
            for where in (config(token_url=f"http://127.0.0.1:{free_port()}/token"), config()):
                with pytest.raises(AuthError) as raised:
                    await SmartToken(http, where, key, CLIENT).headers()
                said.append(str(raised.value))
            async with region(public(key)) as place:
                with pytest.raises(AuthError) as raised:
                    await SmartToken(http, config(place, fhir_base_url=f"{place.root}/ailleurs"), key, CLIENT).headers()
                said.append(str(raised.value))
        return said

    unreachable, undiscovered_unreachable, no_configuration = run(scenario)
    assert unreachable == "serveur d'autorisation injoignable" == undiscovered_unreachable
    assert no_configuration.startswith("le serveur régional ne dit pas où demander un jeton") and "HTTP 404" in no_configuration


def test_a_cart_without_a_key_is_told_to_enrol(tmp_path: Path) -> None:
    async def scenario() -> str:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(AuthError) as raised:
                await SmartToken(http, config(token_url="http://127.0.0.1:9/token"), tmp_path, CLIENT).headers()
            return str(raised.value)

    assert "telecart sync enrol" in run(scenario)


def test_a_key_made_while_the_agent_runs_is_used_without_a_restart(tmp_path: Path) -> None:
    async def scenario() -> Region:
        async with aiohttp.ClientSession() as http:
            token = SmartToken(http, config(token_url="http://127.0.0.1:9/token"), tmp_path, CLIENT)
            with pytest.raises(AuthError):
                token.key()
            key = smart_auth.make_key(tmp_path)[0]
            async with region(public(key)) as place:
                token.config, token._token_url = config(place), ""
                await token.headers()
                return place

    assert run(scenario).issued == ["token-1"]


def test_enrol_prints_the_public_jwks_and_the_client_id_and_keeps_the_key_unless_told(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    printed = []
    for args in ([], [], ["--new-key"]):
        assert main(["sync", "enrol", "--data-dir", str(tmp_path), *args]) == 0
        out, err = capsys.readouterr()
        printed.append((json.loads(out)["keys"][0], err))
    (first, said), (again, said_again), (new, said_new) = printed
    assert "créée" in said and "déjà présente, gardée" in said_again and again == first and "d" not in first
    assert new["kid"] != first["kid"] and "La région doit enregistrer ce nouveau JWKS" in said_new
    with contextlib.closing(sqlite3.connect(tmp_path / DATABASE_NAME)) as db:
        cart_id = db.execute("SELECT value FROM meta WHERE key = 'cart_id'").fetchone()[0]
    assert f"identifiant client « {cart_id} »" in said and f"identifiant client « {cart_id} »" in said_new
    assert smart_auth.read_key(tmp_path).kid == new["kid"]  # type: ignore[union-attr]


# --- the configuration ------------------------------------------------------------------------


def test_a_configuration_written_before_auth_existed_keeps_its_bearer_token() -> None:
    assert SyncConfig().auth == "none"
    assert SyncConfig(bearer_token="t").auth == "bearer"
    assert SyncConfig(auth="smart", bearer_token="t").auth == "smart"
    assert isinstance(smart_auth.static_auth(SyncConfig(bearer_token="t")), StaticBearer)
    for wrong in ({"auth": "bearer"}, {"auth": "oauth"}, {"client_certificate": "cart.pem"}):
        with pytest.raises(ValueError):
            SyncConfig(**wrong)
    default = SyncConfig().scope.split()
    assert {s.split("/")[1].split(".")[0] for s in default} == {
        "Patient", "Encounter", "Appointment", "Consent", "Observation", "DocumentReference", "Composition", "Practitioner",
        "Provenance", "AuditEvent"}  # every type the cart writes (cloud_sync/to_fhir.py, fhir_audit.py), no other
    assert all(s.startswith("system/") and s.split(".")[1] in ("crus", "cu") for s in default)  # v2 scopes, never a delete


# --- mutual TLS -------------------------------------------------------------------------------


def test_the_sync_tls_context_carries_the_carts_certificate_and_trusts_the_regions_authority(tmp_path: Path) -> None:
    authority = certificate(tmp_path / "ca", "Autorité régionale de test")
    certificate(tmp_path / "cart", CLIENT, authority)
    certificate(tmp_path / "other", "autre", authority)
    assert smart_auth.ssl_context(SyncConfig()) is None  # the system's defaults, as before
    context = smart_auth.ssl_context(SyncConfig(client_certificate=str(tmp_path / "cart.pem"), client_key=str(tmp_path / "cart.key"),
                                                ca_file=str(tmp_path / "ca.pem")))
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert any(dict(x[0] for x in ca["subject"]).get("commonName") == "Autorité régionale de test" for ca in context.get_ca_certs())
    with pytest.raises(AuthError, match="fichiers TLS du chariot inutilisables"):
        smart_auth.ssl_context(SyncConfig(client_certificate=str(tmp_path / "cart.pem"), client_key=str(tmp_path / "other.key")))
