"""The cart's credentials at the regional server: SMART Backend Services (SMART App Launch v2), a
fixed bearer token, or none; and the TLS context of mutual TLS.

SMART: the cart signs a client assertion (a JWT, ES384, iss = sub = client id, aud = the token URL,
a few minutes of life, a jti never reused, the key's `kid` in its header) with an EC P-384 key made
on the cart by `telecart sync enrol` and kept in the data directory (`sync/smart-key.jwk`, 0600).
The private key never leaves the cart: the region registers its public JWKS. The assertion buys an
access token (client_credentials grant), kept until shortly before it expires or until the server
refuses it (401).

Every failure is an `AuthError` whose text a technician reads (`telecart sync status`); the worker
tries again later. Neither a token nor the key ever reaches a log or a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp

from agent import first_use
from agent.config import SyncConfig

if TYPE_CHECKING:  # joserfc (and cryptography's x509 with it) comes with the first key read or made
    from joserfc.jwk import ECKey

ALG = "ES384"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KEY_FILE = Path("sync") / "smart-key.jwk"
# exp at most 5 min ahead (the spec); less, so that a cart's clock a little ahead is not refused.
ASSERTION_SECONDS = 150
EARLY = 30.0  # a token is renewed this long before it expires (less for very short-lived tokens)


class AuthError(Exception):
    """Why the cart has no credentials to show the server now, in French, for the technician."""


class Auth(Protocol):
    async def headers(self) -> dict[str, str]:
        """The headers that authorise one request; AuthError when there are none to give."""
        ...

    def forget(self) -> bool:
        """The server refused them (401): drop what is cached; True when asking again may help."""
        ...


class NoAuth:
    async def headers(self) -> dict[str, str]:
        return {}

    def forget(self) -> bool:
        return False


class StaticBearer:
    def __init__(self, token: str) -> None:
        self._token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> bool:
        return False  # the same token would be refused again


class Unusable:
    """A configuration that cannot work (an unreadable client certificate…): nothing is sent and
    each try says why, instead of stopping the agent."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def headers(self) -> dict[str, str]:
        raise AuthError(self.reason)

    def forget(self) -> bool:
        return False


def static_auth(config: SyncConfig) -> Auth:
    """What needs neither a key nor the network: the fixed token, or nothing."""
    return StaticBearer(config.bearer_token) if config.auth == "bearer" else NoAuth()


# --- the cart's key ---------------------------------------------------------------------------


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def read_key(data_dir: Path) -> ECKey | None:
    """The cart's private key, None before `telecart sync enrol`; AuthError when unreadable."""
    from joserfc.jwk import ECKey

    path = key_path(data_dir)
    try:
        return _as_signing_key(ECKey.import_key(json.loads(path.read_text(encoding="utf-8"))))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise AuthError(f"clé SMART du chariot illisible ({path}) : {type(error).__name__}") from None


def make_key(data_dir: Path, replace: bool = False) -> tuple[ECKey, bool]:
    """The cart's key, made (EC P-384) when there is none or `replace`; (key, made now)."""
    existing = None if replace else read_key(data_dir)
    if existing is not None:
        return existing, False
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-384", parameters={"alg": ALG, "use": "sig"}, auto_kid=True)
    _write_private(key_path(data_dir), json.dumps(key.as_dict(private=True)).encode())
    return key, True


def public_jwks(key: ECKey) -> dict[str, Any]:
    """What the region registers for this cart (no private part)."""
    from joserfc.jwk import KeySet

    return KeySet([key]).as_dict(private=False)


def _as_signing_key(key: ECKey) -> ECKey:
    if not key.is_private or key.as_dict(private=False).get("crv") != "P-384":
        raise ValueError("not a private P-384 key")
    key.ensure_kid()  # the thumbprint (RFC 7638) when the file has none: stable for the same key
    return key


def _write_private(path: Path, content: bytes) -> None:
    """Written whole then renamed (a crash leaves the old key or the new, never half of one); 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# --- the access token -------------------------------------------------------------------------


class SmartToken:
    """An access token from the region's authorisation server, asked for with a signed assertion
    and kept until shortly before it expires. `key` is the key itself or the data directory it is
    read from at each request (a key made by `telecart sync enrol` is used without a restart)."""

    def __init__(self, http: aiohttp.ClientSession, config: SyncConfig, key: ECKey | Path, client_id: str) -> None:
        self.http, self.config, self._key, self.client_id = http, config, key, client_id
        self._token_url = config.token_url
        self._token: str | None = None
        self._until = 0.0  # time.monotonic(): the cart's wall clock may jump
        self._lock = asyncio.Lock()

    async def headers(self) -> dict[str, str]:
        async with self._lock:  # one request for a token at a time; the others wait for it
            if self._token is None or time.monotonic() >= self._until:
                await first_use.load("joserfc.jwt", "joserfc.jwk")  # for the assertion, perhaps during a call
                try:
                    self._token, lifetime = await self._fetch()
                except AuthError:
                    self._token_url = self.config.token_url  # a discovered endpoint is looked up again: it may have moved
                    raise
                self._until = time.monotonic() + lifetime - min(EARLY, lifetime / 5)
            return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> bool:
        self._token = None
        return True

    def key(self) -> ECKey:
        if not isinstance(self._key, Path):
            return self._key
        key = read_key(self._key)
        if key is None:
            raise AuthError("ce chariot n'a pas de clé SMART : lancez « telecart sync enrol » et faites enregistrer "
                            "sa clé publique par le serveur régional")
        return key

    def assertion(self, token_url: str) -> str:
        """The client assertion (SMART Backend Services §4.1)."""
        from joserfc import jwt

        key = self.key()
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": token_url, "iat": now,
                  "exp": now + ASSERTION_SECONDS, "jti": uuid.uuid4().hex}
        return jwt.encode({"alg": ALG, "typ": "JWT", "kid": key.kid}, claims, key, algorithms=[ALG])

    async def token_url(self) -> str:
        """[sync] token_url, else the `token_endpoint` of the server's .well-known/smart-configuration."""
        if not self._token_url:
            url = self.config.fhir_base_url.rstrip("/") + "/.well-known/smart-configuration"
            status, answer = await self._call("GET", url)
            endpoint = answer.get("token_endpoint") if status == 200 and isinstance(answer, dict) else None
            if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
                raise AuthError(f"le serveur régional ne dit pas où demander un jeton ({url} : HTTP {status})")
            self._token_url = endpoint
        return self._token_url

    async def _fetch(self) -> tuple[str, float]:
        url = await self.token_url()
        form = {"grant_type": "client_credentials", "scope": self.config.scope,
                "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.assertion(url)}
        status, answer = await self._call("POST", url, form)
        if status == 429 or status >= 500:
            raise AuthError(f"serveur d'autorisation indisponible (HTTP {status})")
        if not isinstance(answer, dict):
            raise AuthError(f"réponse illisible du serveur d'autorisation (HTTP {status})")
        if status != 200:
            said = answer.get("error_description") or answer.get("error") or f"HTTP {status}"
            raise AuthError(f"jeton refusé par le serveur régional : {str(said)[:300]}")
        token, kind = answer.get("access_token"), answer.get("token_type", "")
        lifetime = -1.0
        with contextlib.suppress(TypeError, ValueError):
            lifetime = float(answer.get("expires_in", 300))  # a number, though some servers write it as text
        if not isinstance(token, str) or not token or str(kind).lower() != "bearer" or not 0 < lifetime < float("inf"):
            raise AuthError("réponse illisible du serveur d'autorisation (pas de jeton utilisable)")
        return token, lifetime

    async def _call(self, method: str, url: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
        """(status, the JSON answer or None when it is not JSON)."""
        try:
            async with self.http.request(method, url, data=form, headers={"Accept": "application/json"},
                                         timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds)) as reply:
                text = await reply.text()
                answer = None
                with contextlib.suppress(ValueError):
                    answer = json.loads(text)
                return reply.status, answer
        except TimeoutError:
            raise AuthError("le serveur d'autorisation ne répond pas") from None
        except (aiohttp.ClientError, OSError):
            raise AuthError("serveur d'autorisation injoignable") from None


# --- mutual TLS -------------------------------------------------------------------------------


def ssl_context(config: SyncConfig) -> ssl.SSLContext | None:
    """The TLS context of the regional server and its token endpoint: the cart's certificate
    (mutual TLS) and the region's authority, when configured; None: the system's defaults.
    AuthError when a file is missing, unreadable, or the key does not match the certificate."""
    if not (config.client_certificate or config.ca_file):
        return None
    context = ssl.create_default_context()
    try:
        if config.ca_file:
            context.load_verify_locations(cafile=config.ca_file)
        if config.client_certificate:
            context.load_cert_chain(config.client_certificate, config.client_key or None)
    except (OSError, ssl.SSLError) as error:
        files = ", ".join(f for f in (config.client_certificate, config.client_key, config.ca_file) if f)
        raise AuthError(f"fichiers TLS du chariot inutilisables ({files}) : {error.strerror or error}") from None
    return context
