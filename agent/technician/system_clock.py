"""The cart's clock as the technician's page shows and sets it, through systemd-timedated's D-Bus
API (org.freedesktop.timedate1; the image's polkit rule lets the agent's user call it without a
password): the time zone, network time (NTP) on or off and whether it is synchronised, and the
time set by hand when there is no network time.

The clock matters more on a cart than on a desk: the one-time codes of the staff's second factor,
the certificates of every TLS connection and the audit trail's times are all only as right as it.
The agent itself never sets the clock (its unit has ProtectClock=yes); timedated does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

TIMEDATE = "org.freedesktop.timedate1"
TIMEDATE_PATH = "/org/freedesktop/timedate1"

# France's zones first (metropolitan, then overseas), as the page offers them.
FRENCH_ZONES = (
    ("Europe/Paris", "France métropolitaine"), ("America/Guadeloupe", "Guadeloupe"), ("America/Martinique", "Martinique"),
    ("America/Cayenne", "Guyane"), ("Indian/Reunion", "La Réunion"), ("Indian/Mayotte", "Mayotte"),
    ("America/Miquelon", "Saint-Pierre-et-Miquelon"), ("Pacific/Noumea", "Nouvelle-Calédonie"), ("Pacific/Tahiti", "Polynésie française"),
    ("Pacific/Wallis", "Wallis-et-Futuna"),
)


class ClockError(Exception):
    """timedated could not be asked or refused: the message is French, for the technician."""


def all_zones() -> list[str]:
    """Every zone the system knows, in order (the page's list after France's)."""
    return sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/")))


def known_zone(name: str) -> str:
    if name not in available_timezones():
        raise ClockError(f"Fuseau horaire inconnu : {name}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ClockError(f"Fuseau horaire inconnu : {name}") from error
    return name


class SystemClock:
    """One short-lived connection to the system bus per question: the page asks rarely."""

    async def _call(self, member: str, signature: str = "", body: list[Any] | None = None, interface: str = TIMEDATE) -> list[Any]:
        # dbus_fast (about 3.7 MiB) is imported when a technician first asks, not at start
        from dbus_fast import BusType, Message, MessageType
        from dbus_fast.aio import MessageBus

        try:
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        except (OSError, ValueError) as error:
            raise ClockError("L'horloge du système est injoignable (pas de bus système) : elle se règle sur le chariot lui-même.") from error
        try:
            reply = await bus.call(Message(destination=TIMEDATE, path=TIMEDATE_PATH, interface=interface, member=member,
                                           signature=signature, body=body or []))
        finally:
            bus.disconnect()
        if reply is None or reply.message_type == MessageType.ERROR:
            if reply is not None and reply.error_name == "org.freedesktop.DBus.Error.ServiceUnknown":
                raise ClockError("Le service d'horloge (systemd-timedated) ne fonctionne pas sur ce chariot.")
            said = reply.body[0] if reply is not None and reply.body else (reply.error_name if reply is not None else "pas de réponse")
            raise ClockError(f"L'horloge a refusé : {said}")
        return reply.body

    async def state(self) -> dict[str, Any]:
        """The zone, network time and the time now, as the system has them."""
        from dbus_fast import Variant

        (found,) = await self._call("GetAll", "s", [TIMEDATE], interface="org.freedesktop.DBus.Properties")
        values = {key: value.value if isinstance(value, Variant) else value for key, value in found.items()}
        zone = str(values.get("Timezone") or "UTC")
        try:
            local = datetime.now(UTC).astimezone(ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            local = datetime.now(UTC)
        return {"timezone": zone, "ntp": bool(values.get("NTP")), "synchronized": bool(values.get("NTPSynchronized")),
                "can_ntp": bool(values.get("CanNTP", True)), "now": local.isoformat(timespec="seconds")}

    async def set_timezone(self, zone: str) -> None:
        await self._call("SetTimezone", "sb", [known_zone(zone), False])

    async def set_ntp(self, on: bool) -> None:
        await self._call("SetNTP", "bb", [on, False])

    async def set_time(self, moment: datetime) -> None:
        """The clock set by hand: timedated refuses while network time is on, and so does the page."""
        if (await self.state())["ntp"]:
            raise ClockError("L'heure réseau (NTP) est active : coupez-la avant de régler l'heure à la main.")
        usec = int(moment.astimezone(UTC).timestamp() * 1_000_000)
        await self._call("SetTime", "xbb", [usec, False, False])
