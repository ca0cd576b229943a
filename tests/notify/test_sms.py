"""send_sms against a real HTTP server standing in for the SMS gateway."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from agent.config import SmsConfig
from agent.notify import DeliveryError, masked
from agent.notify.sms import send_sms
from tests.notify.servers import Gateway, free_port, gateway_server, run_async

MOBILE = "+33612345678"
TEXT = "Téléconsultation EHPAD Les Tilleuls : votre code est 482913. Ne le communiquez à personne."


async def attempt(gateway: Gateway | None, token: str = "", timeout: float = 5) -> DeliveryError | None:
    """One send_sms through `gateway` (None: a port where nothing listens); the error, if any."""
    async with aiohttp.ClientSession() as http:
        async def send(url: str) -> DeliveryError | None:
            try:
                await send_sms(SmsConfig(gateway_url=url, bearer_token=token, timeout_seconds=timeout), http, MOBILE, TEXT)
            except DeliveryError as exc:
                return exc
            return None

        if gateway is None:
            return await send(f"http://127.0.0.1:{free_port()}/sms")
        async with gateway_server(gateway) as url:
            return await send(url)


def outcome(error: DeliveryError | None) -> tuple[str, bool] | None:
    return None if error is None else (error.message, error.permanent)


def test_gateway_receives_recipient_text_and_bearer_token() -> None:
    gateway = Gateway()
    assert run_async(attempt(gateway, token="jeton-secret")) is None
    assert gateway.requests == [({"to": MOBILE, "text": TEXT}, "Bearer jeton-secret")]


def test_no_authorization_header_without_a_token() -> None:
    gateway = Gateway()
    run_async(attempt(gateway))
    assert gateway.requests == [({"to": MOBILE, "text": TEXT}, None)]


@pytest.mark.parametrize(("status", "expected"), [
    (400, ("La passerelle SMS a refusé le message (400)", True)),
    (422, ("La passerelle SMS a refusé le message (422)", True)),
    (401, ("La passerelle SMS refuse l'identification du chariot (401)", False)),
    (408, ("La passerelle SMS est momentanément indisponible (408)", False)),
    (429, ("La passerelle SMS est momentanément indisponible (429)", False)),
    (500, ("La passerelle SMS est momentanément indisponible (500)", False)),
    (503, ("La passerelle SMS est momentanément indisponible (503)", False)),
])
def test_gateway_answers(status: int, expected: tuple[str, bool]) -> None:
    assert outcome(run_async(attempt(Gateway(statuses=[status])))) == expected


def test_gateway_down_is_temporary() -> None:
    assert outcome(run_async(attempt(None))) == ("Passerelle SMS injoignable", False)


def test_slow_gateway_times_out_as_temporary() -> None:
    error = run_async(attempt(Gateway(delay=2), timeout=0.2))
    assert outcome(error) == ("La passerelle SMS ne répond pas (délai dépassé)", False)


def test_unconfigured_gateway_keeps_the_message_waiting() -> None:
    async def scenario() -> DeliveryError:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(DeliveryError) as caught:
                await send_sms(SmsConfig(), http, MOBILE, TEXT)
            return caught.value

    assert outcome(run_async(scenario())) == ("Passerelle SMS non configurée", False)


def test_logs_never_hold_the_text_nor_the_whole_number(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    run_async(attempt(Gateway(statuses=[400])))
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "+33 6 •• •• •• 78" in logged
    assert "482913" not in logged and MOBILE not in logged and "612345678" not in logged


def test_masked_recipients() -> None:
    assert [masked(r) for r in ("+33612345678", "+33 7 98 76 54 32", "0612345678", "jeanne.martin@example.fr", "12")] == [
        "+33 6 •• •• •• 78", "+33 7 •• •• •• 32", "06••••••78", "j•••@example.fr", "••",
    ]
