"""Declarative API routes: each handler states its body, query and response models, who may call
it, and which errors it may answer. The same declaration drives request parsing, access checks
and the OpenAPI document, so the document cannot drift from the code.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from agent.access.roles import Permission
from agent.access.sessions import Session
from agent.api import guard
from agent.api.errors import ApiError, from_validation_errors
from agent.audit import Actor
from agent.links.specialist_access import Guest

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Call:
    """What a handler receives besides the request: the parsed input and who is calling."""

    request: web.Request
    session: Session | None
    body: Any = None
    query: Any = None
    guest: Guest | None = None  # a specialist through their invitation link (access=GUEST)

    @property
    def remote_addr(self) -> str | None:
        return self.request.remote

    @property
    def actor(self) -> Actor:
        """The logged-in caller, as the audit trail names them."""
        if self.guest is not None:
            return self.guest.actor(self.remote_addr)
        assert self.session is not None, "only routes that need a session have an actor"
        p = self.session.principal
        return Actor(p.login, p.role.value, self.remote_addr)


Handler = Callable[[Call], Awaitable[Any]]

PUBLIC = "public"  # no session needed
SESSION = "session"  # any logged-in user
GUEST = "guest"  # a specialist who opened their invitation link with a one-time code


@dataclass
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tags: tuple[str, ...]
    access: str | Permission
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    allow_locked: bool = False  # reachable while the kiosk is locked (lookup, unlock, logout)
    content_type: str = "application/json"  # of the success response
    upload: bool = False  # multipart/form-data with a `file` field, read by the handler itself

    @property
    def needs_csrf(self) -> bool:
        return self.method in UNSAFE_METHODS and self.access != PUBLIC

    def all_errors(self) -> list[int]:
        codes = set(self.errors) | {421, 503}
        if self.body is not None or self.upload:
            codes |= {400, 413, 415, 422}
        if self.query is not None:
            codes.add(422)
        if self.method in UNSAFE_METHODS:
            codes.add(403)  # foreign Origin, or a missing CSRF token
        if self.access == GUEST:
            codes.add(401)
        elif self.access != PUBLIC:
            codes |= {401, 423}
            if isinstance(self.access, Permission):
                codes.add(403)
        if "{" in self.path:
            codes.add(404)
        return sorted(codes)


@dataclass
class Api:
    prefix: str = "/api/v1"
    operations: list[Operation] = field(default_factory=list)

    def route(self, method: str, path: str, *, summary: str, tags: tuple[str, ...] = (), access: str | Permission = SESSION,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, errors: tuple[int, ...] = (),
              allow_locked: bool = False, absolute: bool = False, content_type: str = "application/json",
              upload: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(method, path if absolute else self.prefix + path, handler, summary, tags, access,
                          body, query, response, status, errors, allow_locked, content_type, upload)
            )
            return handler

        return register

    def install(self, app: web.Application) -> None:
        for op in self.operations:
            app.router.add_route(op.method, op.path, _endpoint(op))


def _parse_query(op: Operation, request: web.Request) -> Any:
    assert op.query is not None
    try:
        return op.query.model_validate(dict(request.query))
    except ValidationError as exc:
        raise from_validation_errors(exc.errors(include_url=False)) from exc


async def _parse_body(op: Operation, request: web.Request) -> Any:
    assert op.body is not None
    raw = await request.read()  # aiohttp enforces client_max_size here (413)
    if not raw and all(not f.is_required() for f in op.body.model_fields.values()):
        data = {}  # nothing sent where nothing is required: the defaults (POST …/code asks for the usual channel)
    elif request.content_type != "application/json":
        raise ApiError("unsupported_media_type")
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." thousands deep
            raise ApiError("malformed_json") from exc
    try:
        return op.body.model_validate(data)
    except ValidationError as exc:
        raise from_validation_errors(exc.errors(include_url=False)) from exc


def _endpoint(op: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        if op.method in UNSAFE_METHODS:
            await guard.check_origin(request)
        session = guest = None
        if op.access == GUEST:
            guest = await guard.require_guest(request, needs_csrf=op.needs_csrf)
        elif op.access != PUBLIC:
            session = await guard.require_session(request, op.allow_locked)
            await guard.require_technician_outside(request, session)
            if isinstance(op.access, Permission):
                await guard.require_permission(request, session, op.access)
            if op.needs_csrf:
                await guard.require_csrf(request, session)
        query = _parse_query(op, request) if op.query else None
        body = await _parse_body(op, request) if op.body else None
        result = await op.handler(Call(request, session, body, query, guest))
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204 if op.status == 200 else op.status)
        payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        return web.json_response(payload, status=op.status, dumps=json_dumps)

    endpoint.__name__ = op.handler.__name__
    return endpoint


def json_dumps(value: Any) -> str:
    """JSON as the API writes it: UTF-8 text, French accents unescaped."""
    return json.dumps(value, ensure_ascii=False)
