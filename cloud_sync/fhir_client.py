"""The cart's HTTP conversation with the regional FHIR server, and what each answer means:

- 2xx: sent (a transaction's response is checked entry by entry, and must be one: a Wi-Fi
  portal's or a gateway's `200 OK` page is a retry, never "sent" nor a refusal).
- 412: a conflict for a person; never an overwrite. 409 (a retry meeting its own first try still
  running on the server): tried again.
- 404, 410 on an update: the resource is gone from the server (worker.py looks why).
- other 4xx: refused by the server (its OperationOutcome kept), set aside for a person.
- 429, 5xx, no answer, a cut link, an answer that is not HTTP or not in its charset: tried again
  later (the server's Retry-After respected).
- The cart proves itself as `[sync] auth` says (smart_auth.py): with SMART, a 401 drops the access
  token and the request is sent once more at once with a new one.

The timeout bounds the wait for the server (connecting, then each read), not the upload: a large
document on a slow link takes the time it takes.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from agent.config import SyncConfig
from cloud_sync.smart_auth import Auth, AuthError

log = logging.getLogger("cloud_sync")

FHIR_JSON = "application/fhir+json"
SLOWEST_LINK_BYTES_PER_S = 8_000  # 64 kbit/s: a 4G valise at the edge of a white zone
SENT, CONFLICT, REFUSED, RETRY, GONE = "sent", "conflict", "refused", "retry", "gone"


class PullError(Exception):
    """The server could not be asked (unreachable, refusing, garbage): try again at the next round."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Answer:
    outcome: str  # SENT | CONFLICT | REFUSED | RETRY | GONE
    error: str | None = None  # in French, for the technician
    retry_after: float | None = None  # the server's Retry-After, in seconds
    text: str = ""  # the body: a transaction's response
    etag: str | None = None  # an update's new version
    status: int = 0  # the HTTP status, 0 when there was none


class FhirClient:
    def __init__(self, http: aiohttp.ClientSession, config: SyncConfig, auth: Auth) -> None:
        self.http, self.config, self.auth = http, config, auth

    @property
    def base(self) -> str:
        return self.config.fhir_base_url.rstrip("/")

    def timeout(self, sending: int = 0) -> aiohttp.ClientTimeout:
        """aiohttp starts waiting for the answer once the body is handed to the kernel, not once it
        left: what may still sit in buffers gets the time of the slowest link the cart is used on."""
        return aiohttp.ClientTimeout(total=None, connect=self.config.timeout_seconds,
                                     sock_read=self.config.timeout_seconds + sending / SLOWEST_LINK_BYTES_PER_S)

    async def exchange(self, method: str, url: str, headers: dict[str, str], data: bytes | None = None,
                       params: dict[str, str] | None = None) -> tuple[aiohttp.ClientResponse, bytes]:
        """One request with the cart's credentials, and its answer read whole. A 401 drops the
        access token and the request goes once more at once with a new one. Raises AuthError and
        aiohttp's, OS and timeout errors (a link that failed)."""
        for renewed in (False, True):
            sent = {**headers, **await self.auth.headers()}
            async with self.http.request(method, url, data=data, params=params, headers=sent, timeout=self.timeout(len(data or b""))) as reply:
                if reply.status == 401 and not renewed and self.auth.forget():
                    continue  # an access token the server no longer takes
                return reply, await reply.read()
        raise AssertionError("unreachable: the second turn returns")

    async def send(self, body: str, method: str = "POST", path: str = "", if_match: str | None = None) -> Answer:
        """A transaction (`path` empty) or a write to `path`, with its version when it names one."""
        # return=minimal: the server need not send each resource back (a document's bytes would travel twice)
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, "Prefer": "return=minimal",
                   **({"If-Match": if_match} if if_match else {})}
        try:
            reply, raw = await self.exchange(method, self.base + (f"/{path}" if path else ""), headers, body.encode())
        except AuthError as error:
            return Answer(RETRY, str(error))
        except TimeoutError:
            return Answer(RETRY, "le serveur ne répond pas")
        except (aiohttp.ClientError, OSError) as error:
            log.info("sync: %r", error)
            return Answer(RETRY, "serveur injoignable")
        said = answer_of(reply.status, _decoded(raw, reply.charset), reply.headers.get("Retry-After"), reply.headers.get("ETag"), transaction=not path)
        return replace(said, status=reply.status)

    async def fetch(self, where: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        """A search or read (a path under the FHIR base, or a URL the server gave under it: a
        `next` link, a Binary): its JSON, or PullError (with the status when there was one)."""
        if "://" in where and not where.startswith(self.base + "/"):
            raise PullError(f"adresse hors du serveur régional refusée : {where[:80]}")  # the cart's token goes nowhere else
        url = where if "://" in where else f"{self.base}/{where.lstrip('/')}"
        try:
            reply, raw = await self.exchange("GET", url, {"Accept": FHIR_JSON}, params=query)
            if reply.status != 200:
                raise PullError(f"HTTP {reply.status}", reply.status)
            found = json.loads(_decoded(raw, reply.charset))
        except AuthError as error:
            raise PullError(str(error)) from error
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as error:
            raise PullError(repr(error)) from error
        if not isinstance(found, dict):
            raise PullError("réponse illisible")
        return found


def _decoded(raw: bytes, charset: str | None) -> str:
    """The body as text whatever it claims (a gateway's page in another charset than it says)."""
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")


def answer_of(status: int, text: str, retry_after: str | None, etag: str | None = None, transaction: bool = True) -> Answer:
    """What an answer means; a transaction's 2xx only when it is a transaction-response whose
    entries all succeeded, an update's only when it is a FHIR resource."""
    if 200 <= status < 300:
        body = _json(text)
        if transaction:
            if body.get("resourceType") != "Bundle" or not str(body.get("type", "")).endswith("-response"):
                return Answer(RETRY, f"réponse inattendue (HTTP {status}, pas une réponse FHIR) : un portail Wi-Fi ou un relais s'interpose ?")
            failed = [e.get("response", {}).get("status", "") for e in body.get("entry", [])]
            failed = [s for s in failed if not s.startswith("2")]
            return Answer(REFUSED, f"réponse du serveur : {', '.join(failed)}", text=text) if failed else Answer(SENT, text=text)
        if not body.get("resourceType") and text.strip():  # an empty body is what return=minimal asks
            return Answer(RETRY, f"réponse inattendue (HTTP {status}, pas une réponse FHIR) : un portail Wi-Fi ou un relais s'interpose ?")
        return Answer(SENT, text=text, etag=etag or _version_tag(body))
    said = _issue_text(text) or f"HTTP {status}"
    if status == 412:  # the resource changed on the server since: a person decides, never an overwrite
        return Answer(CONFLICT, f"conflit sur le serveur : {said}", text=text)
    if status in (404, 410) and not transaction:
        return Answer(GONE, f"absent du serveur régional (HTTP {status}) : {said}", text=text)
    if status == 409:  # HAPI's answer to two conditional creates at once (a retry meeting its first try): try again
        return Answer(RETRY, f"le serveur traite encore un envoi précédent : {said}")
    if status == 429 or status >= 500:
        return Answer(RETRY, f"serveur indisponible (HTTP {status})", parse_retry_after(retry_after))
    if status in (401, 403):
        return Answer(RETRY, f"accès refusé par le serveur (HTTP {status}) : vérifiez l'identification du chariot")
    return Answer(REFUSED, f"refusé par le serveur (HTTP {status}) : {said}", text=text)


def _json(text: str) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        found = json.loads(text)
        if isinstance(found, dict):
            return found
    return {}


def _version_tag(resource: dict[str, Any]) -> str | None:
    version = resource.get("meta", {}).get("versionId") if isinstance(resource.get("meta"), dict) else None
    return f'W/"{version}"' if version else None


def parse_retry_after(header: str | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not header:
        return None
    if header.strip().isdigit():
        return float(header)
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds())
    return None


def versions(text: str | None) -> list[tuple[str, str] | None]:
    """Where the server keeps each entry of the transaction and its version, in order."""
    found: list[tuple[str, str] | None] = []
    for entry in _json(text or "").get("entry", []):
        response = entry.get("response", {}) if isinstance(entry, dict) else {}
        location, etag = response.get("location", ""), response.get("etag")
        found.append((_type_and_id(location), etag) if location and etag else None)
    return found


def _type_and_id(location: str) -> str:
    """"Encounter/abc" from "Encounter/abc/_history/1" or "http://…/fhir/Encounter/abc/_history/1"."""
    parts = location.rstrip("/").split("/")
    end = parts.index("_history") if "_history" in parts else len(parts)
    return "/".join(parts[end - 2:end])


def _issue_text(text: str) -> str | None:
    with contextlib.suppress(AttributeError, IndexError, KeyError, TypeError):
        issue = _json(text)["issue"][0]
        return issue.get("diagnostics") or issue.get("details", {}).get("text")
    return None
