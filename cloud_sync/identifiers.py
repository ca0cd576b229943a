"""Cart-scoped identifiers: every resource the cart sends carries `system = <base>/<kind>` and the
cart's own id as value, so the server finds it again (conditional create: a resend is a no-op)
and two carts' ids never meet (docs/regional-server.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CartIdentifiers:
    base: str  # e.g. https://telesante-region.fr/fhir/sid/telecart/<cart id>

    def system(self, kind: str) -> str:
        return f"{self.base.rstrip('/')}/{kind}"

    def identifier(self, kind: str, value: str) -> dict[str, str]:
        return {"system": self.system(kind), "value": value}

    def search(self, kind: str, value: str) -> str:
        """The `identifier=system|value` query that finds it (ifNoneExist, conditional references)."""
        return f"identifier={self.system(kind)}|{value}"
