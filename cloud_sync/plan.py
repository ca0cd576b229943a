"""How an outbox entry goes on the wire, as the requests to send in order:

1. each resource the server already keeps and the cart keeps up to date (it confirmed a version
   before): a `PUT` to the resource's own address naming that version (`If-Match`), so a change
   made there meanwhile is refused (412) and goes to a person, never overwritten;
2. everything else in one transaction Bundle (fhir_bundle.py), with the Provenance of the entry
   naming all it wrote.

A resource the server already holds exactly as the cart would write it again (same content as the
version it confirmed) is not sent: the Encounter rebuilt for a change that did not touch it costs
nothing. An entry that then writes nothing sends nothing, but for a signature: its Provenance
names who signed what the server holds.

The same entry always makes the same requests, whatever was sent before: a retry resends the lot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fhir.resources.R4B.resource import Resource

from cloud_sync.fhir_bundle import PUT, UPSERT, full_url, transaction_json, version_key
from cloud_sync.fhir_provenance import provenance
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.queue import Entry
from cloud_sync.to_fhir import Write, signer_of

TRANSACTION = ""  # a transaction is posted to the server's base
Known = tuple[str, str, "str | None"]  # where the server keeps it, its version (ETag), the digest of what the cart wrote


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # relative to the FHIR base: "Encounter/abc", or TRANSACTION
    body: str
    if_match: str | None = None
    # the version key (fhir_bundle.version_key) of what each written resource is, in the order the
    # answer lists them, None for what the cart never updates; and the digest of its content
    keys: tuple[str | None, ...] = ()
    digests: tuple[str | None, ...] = ()


def digest(resource: Resource, text: str | None = None) -> str:
    """What a resource says, whatever its id on the server. `text`: its JSON already written
    (`model_dump_json(exclude_none=True)`), the same bytes when it has no id."""
    if text is None or resource.id is not None:
        text = resource.model_dump_json(exclude_none=True, exclude={"id"})
    return hashlib.sha256(text.encode()).hexdigest()


def requests_for(entry: Entry, writes: Sequence[Write], known: Mapping[str, Known], ids: CartIdentifiers) -> list[Request]:
    """`known`: where the server keeps each resource the cart keeps up to date, its version and the
    digest of what the cart last wrote there, by version key."""
    updates: list[Request] = []
    bundled: list[tuple[Resource, str, str]] = []  # each resource, how it is written, its JSON
    keys: list[str | None] = []
    digests: list[str | None] = []
    targets: list[str] = []
    unchanged: list[str] = []
    for write in writes:
        kept_up_to_date = write.how == UPSERT or (write.how == PUT and getattr(write.resource, "identifier", None))
        key = version_key(write.resource) if kept_up_to_date else None
        text = write.resource.model_dump_json(exclude_none=True)  # written once, for its digest and the Bundle
        said = digest(write.resource, text) if key else None
        if key in known:
            location, etag, last = known[key]  # type: ignore[index]
            if said == last:
                unchanged.append(location)
                continue  # the server holds this already
            resource = write.resource.model_copy(update={"id": location.split("/", 1)[1]})  # an update names its target
            updates.append(Request("PUT", location, resource.model_dump_json(exclude_none=True), etag, (key,), (said,)))
            targets.append(location)
        else:
            bundled.append((write.resource, write.how, text))
            keys.append(key)
            digests.append(said)
            targets.append(full_url(write.resource))
    signer = signer_of(entry)
    if signer and not targets:  # a signature is recorded even when the signed text reached the server before
        targets = unchanged
    if not targets:
        return []
    made = provenance(ids, entry.id, targets, entry.at, entry.operation != "create", signer)
    bundled.append((made, PUT, made.model_dump_json(exclude_none=True)))
    keys.append(None)
    digests.append(None)
    body = transaction_json(bundled)
    return [*updates, Request("POST", TRANSACTION, body, None, tuple(keys), tuple(digests))]


def merged(requests: Sequence[Request]) -> Request:
    """Several entries' transactions as one (worker.py sends runs of leaves so: fewer round trips)."""
    entries = [e for r in requests for e in json.loads(r.body)["entry"]]
    body = json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}, ensure_ascii=False)
    return Request("POST", TRANSACTION, body, None, tuple(k for r in requests for k in r.keys), tuple(d for r in requests for d in r.digests))
