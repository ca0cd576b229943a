"""Time in one place: records' stamps (UTC, ISO 8601, milliseconds), the rooms' and slots' times
(ISO 8601 to the second) and dates and times as French people write them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> float:
    """Wall-clock epoch seconds (sessions, lockouts: they must survive a restart)."""
    return time.time()


def french_date(iso_date: str) -> str:
    """"1931-11-02" -> "02/11/1931", as French forms and letters write dates."""
    year, month, day = iso_date.split("-")
    return f"{day}/{month}/{year}"


def iso(moment: datetime) -> str:
    """A room's or a slot's time, to the second (what links and windows compare)."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")


def long_date(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"


STAMP = "%d/%m/%Y à %H:%M"


def local_stamp(zone: ZoneInfo, moment: datetime | None = None, fmt: str = STAMP) -> str:
    """A moment (now, if none) as the cart writes it on its papers, in its own time zone:
    "03/02/2025 à 14:05" (`fmt`: another strftime, "%d/%m/%Y" for the day alone)."""
    return (datetime.now(UTC) if moment is None else moment).astimezone(zone).strftime(fmt)


def clock_time(moment: datetime, zone: ZoneInfo) -> str:
    """"14 h 05", as French typography writes times."""
    local = moment.astimezone(zone)
    return f"{local.hour} h {local.minute:02d}"
