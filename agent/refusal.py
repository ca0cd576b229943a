"""A domain rule said no. Domain modules raise a `Refused` subclass with an API error code
(agent/api/errors.py) and the values its French message needs; the HTTP layer answers it."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
