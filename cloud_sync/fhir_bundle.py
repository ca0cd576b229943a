"""The transaction Bundle the cart sends: every entry a create conditional on the resource's cart
identifier (`ifNoneExist`), under a `urn:uuid` made from that identifier, so the same changes
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


def transaction(resources: Iterable[Resource]) -> Bundle:
    entries: list[dict[str, Any]] = []
    for resource in resources:
        first = resource.identifier[0]  # type: ignore[attr-defined]
        entries.append({"fullUrl": full_url(resource), "resource": resource,
                        "request": {"method": "POST", "url": resource.get_resource_type(),
                                    "ifNoneExist": f"identifier={first.system}|{first.value}"}})
    return Bundle.model_validate({"resourceType": "Bundle", "type": "transaction", "entry": entries})
