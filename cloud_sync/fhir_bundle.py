"""The transaction Bundle the cart sends: every entry a create conditional on the resource's cart
identifier (`ifNoneExist`), a conditional update on it, or (a Provenance, which has no identifier)
a write to an id of the cart's choosing; each under a `urn:uuid` made from that identifier or id,
so the same changes always make the same Bundle: a retry after a cut link, a resend after a
crash, find on the server what the first try made and create nothing twice (FHIR R4
http.html#ccreate, #transaction).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

CREATE, UPSERT, PUT = "create", "upsert", "put"


def _first_identifier(resource: Resource) -> Any:
    found = resource.identifier  # type: ignore[attr-defined]
    return found[0] if isinstance(found, list) else found  # Composition has one, not a list


def _found_by(resource: Resource) -> str:
    first = _first_identifier(resource)
    return f"identifier={first.system}|{first.value}"


def full_url(resource: Resource) -> str:
    """A urn:uuid that only the resource's first (cart) identifier decides, or its id when it has none."""
    if getattr(resource, "identifier", None) is None:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{resource.get_resource_type()}/{resource.id}')}"
    first = _first_identifier(resource)
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{first.system}|{first.value}')}"


def version_key(resource: Resource) -> str:
    """How the cart names a resource it keeps up to date: its type and cart identifier."""
    first = _first_identifier(resource)
    return f"{resource.get_resource_type()}|{first.system}|{first.value}"


def _request(resource: Resource, how: str) -> dict[str, str]:
    kind = resource.get_resource_type()
    if how == PUT:
        return {"method": "PUT", "url": f"{kind}/{resource.id}"}
    if how == UPSERT:
        return {"method": "PUT", "url": f"{kind}?{_found_by(resource)}"}
    return {"method": "POST", "url": kind, "ifNoneExist": _found_by(resource)}


def transaction(resources: Iterable[Resource | tuple[Resource, str]]) -> Bundle:
    """Each resource created once (`POST`, ifNoneExist on its identifier), or, given as
    `(resource, "upsert")`, written whole where its identifier finds it (conditional `PUT`: created
    the first time; later updates go to the resource's own address with If-Match, worker.py), or,
    as `(resource, "put")`, written at its own id."""
    entries: list[dict[str, Any]] = []
    for item in resources:
        resource, how = item if isinstance(item, tuple) else (item, CREATE)
        entries.append({"fullUrl": full_url(resource), "resource": resource, "request": _request(resource, how)})
    return Bundle.model_validate({"resourceType": "Bundle", "type": "transaction", "entry": entries})


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # as pydantic writes JSON


def transaction_json(resources: Iterable[tuple[Resource, str, str]]) -> str:
    """The same Bundle as `transaction()`, as the very text its `model_dump_json(exclude_none=True)`
    writes (tests/unit/sync/test_fhir_resources.py compares them), from each `(resource, how, its
    JSON)`: the resources were validated when built and their JSON written once by plan.py (for
    their digest too), so they are not validated and serialised a second time inside a Bundle
    model (fhir.resources does both in Python: the second pass was half the time spent planning
    an entry's requests)."""
    entries = ",".join(f'{{"fullUrl":{_compact(full_url(resource))},"resource":{text},"request":{_compact(_request(resource, how))}}}'
                       for resource, how, text in resources)
    return f'{{"resourceType":"Bundle","type":"transaction","entry":[{entries}]}}'
