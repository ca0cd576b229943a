"""The transaction Bundle the cart sends: every entry a create conditional on the resource's cart
identifier (`ifNoneExist`) or a conditional update on it, under a `urn:uuid` made from that identifier, so the same changes
always make the same Bundle: a retry after a cut link, a resend after a crash, find on the server
what the first try made and create nothing twice (FHIR R4 http.html#ccreate, #transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource


def full_url(resource: Resource) -> str:
    """A urn:uuid that only the resource's first (cart) identifier decides."""
    first = resource.identifier[0]  # type: ignore[attr-defined]
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{first.system}|{first.value}')}"


def version_key(resource: Resource) -> str:
    """How the cart names a resource it keeps up to date: its type and cart identifier."""
    first = resource.identifier[0]  # type: ignore[attr-defined]
    return f"{resource.get_resource_type()}|{first.system}|{first.value}"


def transaction(resources: Iterable[Resource | tuple[Resource, str]]) -> Bundle:
    """Each resource created once (`POST`, ifNoneExist on its identifier), or, given as
    `(resource, "upsert")`, written whole where its identifier finds it (conditional `PUT`: created
    the first time; later updates go to the resource's own address with If-Match, worker.py)."""
    entries: list[dict[str, Any]] = []
    for item in resources:
        resource, how = item if isinstance(item, tuple) else (item, "create")
        first = resource.identifier[0]  # type: ignore[attr-defined]
        found_by = f"identifier={first.system}|{first.value}"
        kind = resource.get_resource_type()
        request = ({"method": "PUT", "url": f"{kind}?{found_by}"} if how == "upsert"
                   else {"method": "POST", "url": kind, "ifNoneExist": found_by})
        entries.append({"fullUrl": full_url(resource), "resource": resource, "request": request})
    return Bundle.model_validate({"resourceType": "Bundle", "type": "transaction", "entry": entries})
