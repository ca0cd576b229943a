"""A Pro Santé Connect-shaped OpenID provider on loopback, for the tests: authlib's Flask
authorization server (authorization code grant, OpenID Connect with a required nonce, PKCE S256
required of every client), publishing its discovery document and its JWKS, signing RS256 ID
tokens with a key made at start, and answering userinfo with PSC's claims (SubjectNameID = idNat_PS,
SubjectRefPro…; shape from public fixtures, ../shared/notes/card-psc-here.md §3).

The page at /authorize approves at once, for the person `approve_as` names (the e-CPS app's
approval on a phone, done). `misbehave` makes it wrong on purpose: the audience, the signing key,
the nonce or the expiry of the ID token, for the agent's refusals to be tested against real tokens.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core import grants as oidc_grants
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from tests.live import LiveAgent, free_port, running_agent

CLIENT_ID, CLIENT_SECRET = "telecart-chariot-test", "secret-du-chariot"


@dataclass
class Person:
    idnat: str
    given_name: str
    family_name: str

    @property
    def sub(self) -> str:
        return f"f:00000000-0000-0000-0000-000000000000:{self.idnat}"


@dataclass
class Client:
    redirect_uri: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "scope_all"))

    def check_redirect_uri(self, uri: str) -> bool:
        return uri == self.redirect_uri

    def check_client_secret(self, secret: str) -> bool:
        return secrets.compare_digest(secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return "eidas1"

    def get_amr(self) -> list[str]:
        return ["otp"]


@dataclass
class Token:
    access_token: str
    scope: str
    user: Person
    expires_at: float

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() > self.expires_at

    def is_revoked(self) -> bool:
        return False


class StrictPKCE(CodeChallenge):
    """authlib's CodeChallenge forces PKCE on public clients only: PSC wants it of everyone, S256."""

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        if request.args.get("code_challenge_method") != "S256" or not request.args.get("code_challenge"):
            raise InvalidRequestError("PKCE S256 required")
        super().validate_code_challenge(grant, redirect_uri)


@dataclass
class Provider:
    redirect_uri: str
    port: int = field(default_factory=free_port)
    approve_as: Person | None = None
    misbehave: str = ""  # "" | "audience" | "signature" | "nonce" | "expired" | "garbage"
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "psc-test-1", "use": "sig", "alg": "RS256"}))
    stranger: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "psc-test-1", "use": "sig", "alg": "RS256"}))

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/auth/realms/esante-wallet"

    def app(self) -> Flask:
        app = Flask(__name__)
        provider = self
        client = Client(self.redirect_uri)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

            def save_authorization_code(self, code: str, req: Any) -> None:
                data = req.payload.data
                provider.codes[code] = Code(code, req.client.client_id, req.payload.redirect_uri, req.payload.scope, req.user,
                                            data.get("nonce"), data.get("code_challenge"), data.get("code_challenge_method"))

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> Person:
                return authorization_code.user

        class OpenIdCode(oidc_grants.OpenIDCode):
            def resolve_client_private_key(self, client: Client) -> KeySet:
                return KeySet([provider.stranger if provider.misbehave == "signature" else provider.key])

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                now = int(time.time())
                claims: dict[str, Any] = {"iss": provider.issuer, "exp": now + 300}
                if provider.misbehave == "audience":
                    claims["aud"] = ["quelqu-un-d-autre"]
                if provider.misbehave == "expired":  # issued an hour ago, dead ten minutes since
                    claims.update(iat=now - 3600, exp=now - 600)
                return claims

            def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.misbehave == "nonce":
                    claims["nonce"] = "un-autre-nonce"
                return claims

            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def generate_user_info(self, user: Person, scope: str) -> UserInfo:
                return UserInfo(sub=user.sub)

        def save_token(token: dict[str, Any], req: Any) -> None:
            provider.tokens[token["access_token"]] = Token(token["access_token"], token.get("scope", ""), req.user,
                                                            time.time() + token.get("expires_in", 300))

        server = AuthorizationServer(app, query_client=lambda client_id: client if client_id == client.client_id else None,
                                     save_token=save_token)
        server.register_grant(CodeGrant, [StrictPKCE(required=True), OpenIdCode(require_nonce=True)])

        class Bearer(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> Token | None:
                return provider.tokens.get(token_string)

        protect = ResourceProtector()
        protect.register_token_validator(Bearer())

        @app.get("/auth/realms/esante-wallet/.well-known/openid-configuration")
        def discovery() -> Any:
            if provider.misbehave == "garbage":
                return "<html>maintenance</html>", 200
            base = provider.issuer + "/protocol/openid-connect"
            return jsonify({"issuer": provider.issuer, "authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token",
                            "userinfo_endpoint": f"{base}/userinfo", "jwks_uri": f"{base}/certs",
                            "response_types_supported": ["code"], "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                            "acr_values_supported": ["eidas1"]})

        @app.get("/auth/realms/esante-wallet/protocol/openid-connect/certs")
        def jwks() -> Any:
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.get("/auth/realms/esante-wallet/protocol/openid-connect/auth")
        def authorize() -> Any:
            # The e-CPS app approved on the phone: the person is known, the code goes back.
            return server.create_authorization_response(grant_user=provider.approve_as)

        @app.post("/auth/realms/esante-wallet/protocol/openid-connect/token")
        def token() -> Any:
            return server.create_token_response()

        @app.get("/auth/realms/esante-wallet/protocol/openid-connect/userinfo")
        def userinfo() -> Any:
            who: Person = protect.acquire_token(["scope_all"]).user
            return jsonify({"sub": who.sub, "SubjectNameID": who.idnat, "preferred_username": who.idnat,
                            "given_name": who.given_name, "family_name": who.family_name,
                            "SubjectRefPro": {"codeCivilite": "DR", "exercices": [{"codeProfession": "10"}]}})

        return app


@contextlib.contextmanager
def running_provider(redirect_uri: str) -> Iterator[Provider]:
    provider = Provider(redirect_uri)
    server = make_server("127.0.0.1", provider.port, provider.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="psc-provider")
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)


@contextlib.contextmanager
def psc_stack(root: Path, **sections: dict[str, Any]) -> Iterator[tuple[LiveAgent, Provider]]:
    """An agent with Pro Santé Connect on, its public address its own, and the provider that
    sends browsers back to it."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with running_provider(f"{public}/psc/retour") as provider, running_agent(
            root, port=port, server={"public_url": public},
            psc={"enabled": True, "issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                 "redirect_uri": f"{public}/psc/retour"}, **sections) as agent:
        yield agent, provider
