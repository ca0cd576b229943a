"""Cart-scoped identifiers: every resource the cart sends carries `system = <base>/<kind>` and the
cart's own id as value, so the server finds it again (conditional create: a resend is a no-op)
and two carts' ids never meet (docs/regional-server.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CartIdentifiers:
    base: str  # e.g. https://telesante-region.fr/fhir/sid/telecart/<cart id>
    cart_id: str = ""

    def system(self, kind: str) -> str:
        return f"{self.base.rstrip('/')}/{kind}"

    def identifier(self, kind: str, value: str) -> dict[str, str]:
        return {"system": self.system(kind), "value": value}

    def search(self, kind: str, value: str) -> str:
        """The `identifier=system|value` query that finds it (ifNoneExist, conditional references)."""
        return f"identifier={self.system(kind)}|{value}"

    def cart(self) -> dict[str, Any]:
        """The cart itself as the author of what it sends: a Device known by its identifier (a
        logical reference: the server needs no Device resource for it)."""
        return {"type": "Device", "identifier": self.identifier("cart", self.cart_id), "display": "Chariot de téléconsultation"}

    def owns(self, identifiers: list[dict[str, Any]] | dict[str, Any] | None) -> bool:
        """Whether a resource read from the server is one the cart sent (one of its identifiers is the cart's)."""
        listed = identifiers if isinstance(identifiers, list) else [identifiers] if identifiers else []
        return any(str(i.get("system", "")).startswith(self.base.rstrip("/") + "/") for i in listed)
