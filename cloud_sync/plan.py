"""How an outbox entry goes on the wire, as the requests to send in order:

1. each resource the server already keeps and the cart keeps up to date (it confirmed a version
   before): a `PUT` to the resource's own address naming that version (`If-Match`), so a change
   made there meanwhile is refused (412) and goes to a person, never overwritten;
2. everything else in one transaction Bundle (fhir_bundle.py), with the Provenance of the entry
   naming all it wrote.

The same entry always makes the same requests, whatever was sent before: a retry resends the lot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cloud_sync.fhir_bundle import PUT, UPSERT, full_url, transaction, version_key
from cloud_sync.fhir_provenance import provenance
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.queue import Entry
from cloud_sync.to_fhir import Write, signer_of

TRANSACTION = ""  # a transaction is posted to the server's base


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # relative to the FHIR base: "Encounter/abc", or TRANSACTION
    body: str
    if_match: str | None = None
    # the version key (fhir_bundle.version_key) of what each written resource is, in the order the
    # answer lists them, None for what the cart never updates
    keys: tuple[str | None, ...] = ()


def requests_for(entry: Entry, writes: Sequence[Write], known: Mapping[str, tuple[str, str]], ids: CartIdentifiers) -> list[Request]:
    """`known`: where the server keeps each resource the cart keeps up to date and its version, by version key."""
    updates: list[Request] = []
    bundled: list[tuple[object, str]] = []
    keys: list[str | None] = []
    targets: list[str] = []
    for write in writes:
        kept_up_to_date = write.how == UPSERT or (write.how == PUT and getattr(write.resource, "identifier", None))
        key = version_key(write.resource) if kept_up_to_date else None
        if key in known:
            location, etag = known[key]  # type: ignore[index]
            resource = write.resource.model_copy(update={"id": location.split("/", 1)[1]})  # an update names its target
            updates.append(Request("PUT", location, resource.model_dump_json(exclude_none=True), etag, (key,)))
            targets.append(location)
        else:
            bundled.append((write.resource, write.how))
            keys.append(key)
            targets.append(full_url(write.resource))
    bundled.append((provenance(ids, entry.id, targets, entry.at, entry.operation != "create", signer_of(entry)), PUT))
    keys.append(None)
    body = transaction(bundled).model_dump_json(exclude_none=True)  # type: ignore[arg-type]
    return [*updates, Request("POST", TRANSACTION, body, None, tuple(keys))]
