"""What the running agent keeps for the technician's page: the cart's name, its certificate's
fingerprint (known once the HTTPS listener has its certificate) and the first-boot code."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from agent.technician.discovery import PAGE_PATH, local_addresses
from agent.technician.first_boot import FirstBootCode


@dataclass
class TechnicianDesk:
    cart_name: str
    https_port: int
    enabled: bool
    first_boot: FirstBootCode = field(default_factory=FirstBootCode)
    fingerprint: str = ""

    @classmethod
    def named(cls, name: str, https_port: int, enabled: bool) -> TechnicianDesk:
        return cls(name or socket.gethostname().split(".")[0] or "telecart", https_port, enabled and https_port > 0)

    def page_urls(self) -> list[str]:
        """Where a technician on the EHPAD's network opens the page: each of the cart's addresses."""
        if not self.enabled:
            return []
        return [f"https://{address}:{self.https_port}{PAGE_PATH}" for address in local_addresses([])]
