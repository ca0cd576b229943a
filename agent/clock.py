"""Time in one place, so every record uses the same format (UTC, ISO 8601, milliseconds)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> float:
    """Wall-clock epoch seconds (sessions, lockouts: they must survive a restart)."""
    return time.time()


def french_date(iso_date: str) -> str:
    """"1931-11-02" -> "02/11/1931", as French forms and letters write dates."""
    year, month, day = iso_date.split("-")
    return f"{day}/{month}/{year}"
