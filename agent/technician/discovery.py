"""How a technician finds the cart on the EHPAD's network without a screen of their own: the cart
announces itself by multicast DNS (python-zeroconf) as `<name>._telecart._tcp.local.`, on the
HTTPS port, with in its TXT record the technician's page path, the cart's version and the SHA-256
fingerprint of its certificate (a browser or a phone app can check it before trusting the page).
A zeroconf browser, `avahi-browse _telecart._tcp` or the phone's service finder lists the carts.

The announcement follows the cart's addresses (a DHCP lease that changes, a Wi-Fi that comes
back): they are looked at every `RECHECK_SECONDS` and the record updated when they moved.
`[technician] announce_interfaces` limits the interfaces (tests: loopback inside a network
namespace of their own; never the machine's own network).

zeroconf is imported by the announcer in a worker thread as it starts (after the agent is ready,
agent/app.py), and psutil by `local_addresses` when first asked: the agent's start imports this
module (the Host check, the technician's desk) but a development machine or a cart with
`[technician] announce` off never needs zeroconf (docs/architecture.md, "What loads when")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent import __version__, first_use

if TYPE_CHECKING:
    from zeroconf import ServiceInfo
    from zeroconf.asyncio import AsyncZeroconf

log = logging.getLogger("agent.technician")
ZEROCONF_SIDE = ("psutil", "zeroconf", "zeroconf.asyncio")  # imported by the announcer's first run (first_use)

SERVICE_TYPE = "_telecart._tcp.local."
PAGE_PATH = "/technicien"
RECHECK_SECONDS = 60.0


def local_addresses(interfaces: list[str]) -> list[str]:
    """The IPv4 addresses the cart is reached at: those given (addresses or interface names), else
    every interface's but loopback's."""
    import psutil

    found = []
    for name, entries in psutil.net_if_addrs().items():
        for entry in entries:
            if entry.family != socket.AF_INET:
                continue
            wanted = (entry.address in interfaces or name in interfaces) if interfaces else not entry.address.startswith("127.")
            if wanted:
                found.append(entry.address)
    return sorted(set(found))


@dataclass
class Announcement:
    name: str          # the instance name technicians read: the cart's name
    port: int          # the HTTPS listener's
    fingerprint: str   # SHA-256 of the certificate, hex
    cart_id: str

    def info(self, addresses: list[str]) -> ServiceInfo:
        from zeroconf import ServiceInfo

        host = socket.gethostname().split(".")[0] or "telecart"
        return ServiceInfo(SERVICE_TYPE, f"{self.name}.{SERVICE_TYPE}", port=self.port, server=f"{host}.local.",
                           addresses=[socket.inet_aton(a) for a in addresses],
                           properties={"path": PAGE_PATH, "version": __version__, "fp": self.fingerprint, "id": self.cart_id[:8]})


class Announcer:
    def __init__(self, announcement: Announcement, interfaces: list[str]) -> None:
        self.announcement, self.interfaces = announcement, interfaces
        self._zeroconf: AsyncZeroconf | None = None
        self._info: ServiceInfo | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        # zeroconf (and psutil) imported off the loop, which goes on serving meanwhile.
        await first_use.load(*ZEROCONF_SIDE)
        addresses: list[str] = []
        while True:
            try:
                now = local_addresses(self.interfaces)
                if now != addresses:
                    await self._announce(now)
                    addresses = now
            except Exception:  # no network yet, a socket error: announced at the next look
                log.exception("zeroconf: the cart could not be announced; trying again")
                addresses = []
            await asyncio.sleep(RECHECK_SECONDS)

    async def _announce(self, addresses: list[str]) -> None:
        from zeroconf import InterfaceChoice, IPVersion, NonUniqueNameException, ServiceInfo
        from zeroconf.asyncio import AsyncZeroconf

        if self._zeroconf is None:
            chosen = self.interfaces or InterfaceChoice.All
            self._zeroconf = AsyncZeroconf(interfaces=chosen, ip_version=IPVersion.V4Only)
        if not addresses:
            return
        info = self.announcement.info(addresses)
        if self._info is None:
            try:
                await (await self._zeroconf.async_register_service(info, allow_name_change=True))  # the task: probed and announced
            except NonUniqueNameException:  # two carts named alike: zeroconf renamed this one
                log.warning("zeroconf: name %s taken on the network", self.announcement.name)
                raise
        else:
            info = ServiceInfo(SERVICE_TYPE, self._info.name, port=info.port, server=info.server,
                               addresses=info.addresses, properties=info.properties)
            await (await self._zeroconf.async_update_service(info))
        self._info = info
        log.info("zeroconf: announced as %s on %s", info.name, ", ".join(addresses))

    async def stop(self) -> None:
        """Said goodbye on the network (browsers see the cart leave at once)."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._zeroconf is not None:
            try:
                if self._info is not None:
                    await (await self._zeroconf.async_unregister_service(self._info))  # the task: goodbye sent
                await self._zeroconf.async_close()
            except Exception:  # stopping goes on: at worst browsers forget the cart when its record expires
                log.exception("zeroconf: no goodbye said")
