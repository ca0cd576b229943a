"""A domain rule said no. Domain modules raise a `Refused` subclass with an API error code
(agent/api/errors.py) and the values its French message needs; the HTTP layer answers it."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class CountedRefusal(Refused):
    """A refusal whose bookkeeping must stand: what the refusing function wrote before raising it
    (a try counted, its audit record) commits, then the refusal reaches the caller. Without this a
    wrong code would roll its own count back, and a try limit would never hold."""
