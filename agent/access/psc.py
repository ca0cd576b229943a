"""Pro Santé Connect: the national health professionals' OpenID Connect provider, with the e-CPS
app on the person's phone (seed 001 §1.1.2).

The authorization code flow with PKCE (S256), a nonce and `acr_values=eidas1`: the kiosk opens
the provider's page, the person approves on their phone, the provider sends the browser back to
`redirect_uri` with a code, which the agent exchanges (client_secret_basic) for an ID token and
an access token. The ID token is checked with joserfc (a well-kept JOSE library; authlib's own
JOSE is deprecated in its favour): signature by the provider's published keys (fetched again
when a new key id appears), issuer, audience, expiry, the nonce of this very flow. The userinfo
must name the same subject; its national identifier (idNat_PS) names the account as the CPS
card's does. HTTP goes through the agent's aiohttp session.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from sqlite_utils import Database

from agent import first_use
from agent.access.keys import keys_of
from agent.access.professional_login import Professional
from agent.config import PscConfig

if TYPE_CHECKING:  # joserfc (and cryptography's x509 with it) comes with the first login through PSC
    from joserfc.jwk import KeySet

FLOW_SECONDS = 10 * 60  # a person takes a while to approve on their phone; not for ever
HTTP_SECONDS = 20.0
ALGORITHMS = ["RS256", "ES256", "PS256"]


class PscRefused(Exception):
    """The provider's answer cannot log anyone in; the message says why, in French."""


@dataclass(frozen=True)
class PscIdentity:
    subject: str  # the provider's own identifier of the person
    professional: Professional


# --- the flow's secrets, kept on the cart until the browser comes back ----------------------------

def start_flow(db: Database, purpose: str, now: float, ref: str | None = None) -> dict[str, Any]:
    """A new flow: its state (the browser brings it back), nonce and PKCE verifier; `purpose`
    "kiosk" or "link" (then `ref`, the link's "room/token", kept sealed)."""
    db.execute("DELETE FROM psc_flows WHERE created_at < ?", [now - FLOW_SECONDS])
    flow = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24), "verifier": secrets.token_urlsafe(48),
            "purpose": purpose, "ref": keys_of(db).seal(ref) if ref else None, "created_at": now}
    db["psc_flows"].insert(flow)
    return flow


def take_flow(db: Database, state: str, now: float) -> dict[str, Any] | None:
    """The flow of `state`, removed: a state works once, and not after ten minutes."""
    rows = list(db.query("SELECT * FROM psc_flows WHERE state = ?", [state]))
    db.execute("DELETE FROM psc_flows WHERE state = ?", [state])
    if not rows or rows[0]["created_at"] < now - FLOW_SECONDS:
        return None
    flow = rows[0]
    if flow["ref"]:
        flow["ref"] = keys_of(db).unseal(flow["ref"])
    return flow


def challenge_of(verifier: str) -> str:
    """RFC 7636 S256."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# --- the provider ---------------------------------------------------------------------------------

class PscClient:
    def __init__(self, config: PscConfig, public_url: str, proxy: str = "") -> None:
        self.config = config
        self.proxy = proxy or None
        self.link_redirect_uri = config.link_redirect_uri or f"{public_url.rstrip('/')}/psc/retour"
        self._http: aiohttp.ClientSession | None = None
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:  # made at the first login, in the running loop
            self._http = aiohttp.ClientSession(proxy=self.proxy)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=HTTP_SECONDS), **kwargs) as reply:
                if reply.status != 200:
                    raise PscRefused(f"Pro Santé Connect a répondu {reply.status}")
                body = await reply.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise PscRefused("Pro Santé Connect ne répond pas ou répond de façon illisible") from error
        if not isinstance(body, dict):
            raise PscRefused("Pro Santé Connect répond de façon illisible")
        return body

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            found = await self._get_json(self.config.issuer.rstrip("/") + "/.well-known/openid-configuration")
            needed = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
            if any(not isinstance(found.get(key), str) for key in needed) or found["issuer"].rstrip("/") != self.config.issuer.rstrip("/"):
                raise PscRefused("la configuration publiée par Pro Santé Connect n'est pas celle attendue")
            self._metadata = found
        return self._metadata

    async def _key_set(self, refresh: bool = False) -> KeySet:
        await first_use.load("joserfc.jwt", "joserfc.jwk")
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        if self._keys is None or refresh:
            published = await self._get_json((await self.metadata())["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(published)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as error:
                raise PscRefused("les clés publiées par Pro Santé Connect sont illisibles") from error
        return self._keys

    def redirect_uri(self, flow: dict[str, Any]) -> str:
        """Where the browser comes back: the kiosk's address, or the public one of the links."""
        return self.link_redirect_uri if flow["purpose"] == "link" else self.config.redirect_uri

    async def authorization_url(self, flow: dict[str, Any]) -> str:
        params = {
            "response_type": "code", "client_id": self.config.client_id, "redirect_uri": self.redirect_uri(flow),
            "scope": self.config.scope, "state": flow["state"], "nonce": flow["nonce"], "acr_values": self.config.acr_values,
            "code_challenge": challenge_of(flow["verifier"]), "code_challenge_method": "S256",
        }
        return f"{(await self.metadata())['authorization_endpoint']}?{urlencode(params)}"

    async def identity(self, code: str, flow: dict[str, Any]) -> PscIdentity:
        """The person behind `code`, every check passed; PscRefused otherwise."""
        meta = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri(flow), "code_verifier": flow["verifier"]}
        try:
            async with self.http.post(meta["token_endpoint"], data=form, auth=aiohttp.BasicAuth(self.config.client_id, self.config.client_secret),
                                      timeout=aiohttp.ClientTimeout(total=HTTP_SECONDS)) as reply:
                tokens = await reply.json(content_type=None)
                if reply.status != 200:
                    raise PscRefused("Pro Santé Connect a refusé le code de connexion (déjà utilisé ou expiré)")
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise PscRefused("Pro Santé Connect ne répond pas ou répond de façon illisible") from error
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str) or not isinstance(tokens.get("access_token"), str):
            raise PscRefused("Pro Santé Connect n'a pas rendu de jeton d'identité")
        claims = await self._checked_claims(tokens["id_token"], flow["nonce"])
        info = await self._get_json(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"})
        if info.get("sub") != claims["sub"]:
            raise PscRefused("Pro Santé Connect a décrit une autre personne que celle qui s'est connectée")
        idnat = str(info.get("SubjectNameID") or info.get("preferred_username") or "")
        if not idnat.isalnum():
            raise PscRefused("Pro Santé Connect n'a pas donné d'identifiant national de professionnel de santé")
        return PscIdentity(str(claims["sub"]), Professional(idnat, str(info.get("given_name") or ""), str(info.get("family_name") or "")))

    async def _checked_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        keys = await self._key_set()  # first: it imports joserfc off the loop
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            except (JoseError, ValueError, KeyError):  # perhaps a key the provider rotated in: its keys once more
                token = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                now=int(time.time()), leeway=60,
                iss={"essential": True, "value": (await self.metadata())["issuer"]},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except JoseError as error:
            raise PscRefused(f"le jeton d'identité de Pro Santé Connect est refusé ({type(error).__name__})") from error
        except (ValueError, KeyError) as error:
            raise PscRefused("le jeton d'identité de Pro Santé Connect est illisible") from error
        return token.claims
