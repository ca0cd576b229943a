"""Logging: structured records to the systemd journal when run by systemd, else lines on stderr.

Structured fields travel as `extra={"TELECART_<NAME>": value}`; the journal stores them as fields
(searchable with `journalctl TELECART_EVENT=login`), stderr shows them as key=value.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from typing import Any

PREFIX = "TELECART_"
RECENT_LINES = 2000


class RecentLines(logging.Handler):
    """The agent's last log lines in memory, formatted: the support bundle's log when the agent
    does not write to the journal (a development cart, a test)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: deque[str] = deque(maxlen=RECENT_LINES)
        self.setFormatter(KeyValueFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted must not break logging
            self.handleError(record)


def fields(**values: Any) -> dict[str, Any]:
    """`logger.info("...", extra=fields(event="login", login="x"))`"""
    return {f"{PREFIX}{key.upper()}": value for key, value in values.items()}


class KeyValueFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = [f"{k[len(PREFIX):].lower()}={v}" for k, v in record.__dict__.items() if k.startswith(PREFIX)]
        return f"{line} {' '.join(extra)}" if extra else line


RECENT = RecentLines()


def under_journal() -> bool:
    """systemd sets JOURNAL_STREAM when stderr goes to the journal."""
    return bool(os.environ.get("JOURNAL_STREAM"))


def setup(level: str) -> str:
    """Configure the root logger; returns where logs go ("journal" or "stderr")."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level)
    target = "stderr"
    handler: logging.Handler
    if under_journal():
        try:
            from systemd.journal import JournalHandler

            handler = JournalHandler(SYSLOG_IDENTIFIER="telecart")
            target = "journal"
        except ImportError:  # pragma: no cover - systemd-python is a dependency
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(KeyValueFormatter())
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(KeyValueFormatter())
    root.addHandler(handler)
    root.addHandler(RECENT)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # ICE logs every candidate pair check at INFO: dozens of lines per call, none a nurse or technician needs.
    logging.getLogger("aioice").setLevel(logging.WARNING)
    return target
