"""The CPS card at the kiosk: the reader's state (and its changes, pushed as they happen), and
the login or unlock with the card and its PIN. The card is in the cart's reader: only the cart's
own screen (loopback) may see it or log in with it, never a browser elsewhere on the network."""

from __future__ import annotations

import asyncio
import json
import os

from aiohttp import web

from agent.access import card_login, sessions
from agent.access.card_login import CardPolicy
from agent.access.professional_login import NotLinked
from agent.access.rate_limits import LOOPBACK, Door
from agent.access.roles import Role
from agent.api import open_streams
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.guard import SESSION_COOKIE, give_session_cookie
from agent.api.registry import API
from agent.api.routes.session import session_out
from agent.api.routing import PUBLIC, Call, json_dumps
from agent.api.schemas.card import CardLogin, CardOut
from agent.api.schemas.session import SessionOut
from agent.clock import now
from agent.devices.card_reader import CardReader, CardStatus
from drivers.smartcard.token_types import CardGone, PinBlocked, PinWrong, TokenError

HEARTBEAT_SECONDS = 15  # a comment line keeps proxies and the browser from closing the stream


def _kiosk_only(call: Call) -> CardReader:
    if call.request.remote not in LOOPBACK:
        raise ApiError("card_kiosk_only")
    return services_of(call.request).devices.card


def _policy(call: Call) -> CardPolicy:
    card = services_of(call.request).config.card
    return CardPolicy(pin_tries=card.pin_tries, create_accounts=card.create_accounts, new_account_role=Role(card.new_account_role))


async def _card_out(call: Call, status: CardStatus) -> CardOut:
    out = CardOut.model_validate(status.public())
    reader: CardReader = services_of(call.request).devices.card
    holder = reader.holder()
    if holder is not None:
        state = await reader.pin_state()
        out.tries_left = await services_of(call.request).store.read(card_login.tries_left, holder.practitioner.fingerprint, _policy(call), state)
    return out


@API.route("GET", "/card", summary="Le lecteur de carte : carte insérée, titulaire d'une carte CPS, essais de code porteur restants",
           tags=("session",), access=PUBLIC, response=CardOut, errors=(403,))
async def read_card(call: Call) -> CardOut:
    return await _card_out(call, _kiosk_only(call).status)


@API.route("GET", "/card/events", summary="Les changements du lecteur de carte, au fil de l'eau (text/event-stream)",
           tags=("session",), access=PUBLIC, errors=(403,), content_type="text/event-stream")
async def card_events(call: Call) -> web.StreamResponse:
    reader = _kiosk_only(call)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    await response.prepare(call.request)
    queue = reader.listen()
    try:
        with open_streams.endless(call.request):
            status = reader.status
            while True:
                await response.write(f"data: {json.dumps(status.public(), ensure_ascii=False)}\n\n".encode())
                while True:
                    try:
                        async with asyncio.timeout(HEARTBEAT_SECONDS):  # not wait_for: open_streams.endless
                            status = await queue.get()
                        break
                    except TimeoutError:
                        await response.write(b": keep-alive\n\n")
    except ConnectionResetError:
        pass
    finally:
        reader.forget(queue)
    return response


@API.route("POST", "/session/card", summary="Se connecter, ou déverrouiller, avec la carte CPS insérée et son code porteur",
           tags=("session",), access=PUBLIC, body=CardLogin, response=SessionOut, status=201,
           errors=(401, 403, 409, 423, 429, 503))
async def card_session(call: Call) -> web.Response:
    reader = _kiosk_only(call)
    services = services_of(call.request)
    services.rate_limits.knock(Door.LOGIN, call.remote_addr)
    body: CardLogin = call.body
    holder = reader.holder()
    if holder is None:
        if reader.status.problem:
            raise ApiError("card_unavailable", reason=reader.status.problem)
        raise ApiError("card_absent", reason=reader.status.message or "Aucune carte CPS dans le lecteur.")
    who, policy = holder.practitioner, _policy(call)
    left = await services.store.read(card_login.tries_left, who.fingerprint, policy, await reader.pin_state())
    if left == 0:
        raise ApiError("card_blocked")
    if left == 1 and not body.confirm_last_try:
        raise ApiError("pin_last_try")

    challenge = os.urandom(32)
    try:
        signature = await reader.sign(holder, body.pin, challenge)
    except PinWrong:
        after = left - 1
        await services.store.write(card_login.record_wrong_pin, who.fingerprint, who.display_name, call.remote_addr, now(), after,
                                   essential=True)
        raise ApiError("card_blocked" if after == 0 else "pin_wrong", **({} if after == 0 else {"left": after})) from None
    except PinBlocked:
        await services.store.write(card_login.record_blocked, who.fingerprint, policy, now(), essential=True)
        raise ApiError("card_blocked") from None
    except CardGone:
        raise ApiError("card_removed") from None
    except TokenError as error:
        raise ApiError("card_unavailable", reason=str(error)) from None
    if not card_login.signature_valid(holder.key.certificate, challenge, signature):
        raise ApiError("card_proof_failed")

    token = call.request.cookies.get(SESSION_COOKIE)
    current = await services.store.read(sessions.find, token, now()) if token else None
    outcome = await services.store.write(card_login.conclude, who, call.remote_addr, services.login_policy, policy, now(), current,
                                         essential=True)
    services.metrics.logins.labels(outcome="refused" if isinstance(outcome, NotLinked) else "success").inc()
    if isinstance(outcome, NotLinked):
        raise ApiError("card_not_linked", name=who.display_name, rpps=who.rpps or who.idnat)
    if outcome.session is None:  # their own session, unlocked
        assert current is not None and token is not None
        fresh = await services.store.read(sessions.find, token, now())
        assert fresh is not None
        return web.json_response(session_out(call.request, fresh).model_dump(mode="json"), status=200, dumps=json_dumps)
    response = web.json_response(session_out(call.request, outcome.session).model_dump(mode="json"), status=201, dumps=json_dumps)
    assert outcome.token is not None
    give_session_cookie(response, call.request, outcome.token)
    return response
