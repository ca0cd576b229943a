"""send_mail against a real SMTP relay (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import shutil
import ssl
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from agent.config import MailConfig
from agent.notify import DeliveryError
from agent.notify.mail import send_mail
from tests.notify.servers import Inbox, accept_only, free_port, run_async, self_signed, smtp_server

SUBJECT = "Téléconsultation du 14 mars à 10 h 30 — EHPAD Les Tilleuls"
TEXT = (
    "Bonjour Docteur Lefèvre,\n\n"
    "Vous êtes invité(e) à la téléconsultation de Mme Jeanne Dupré, « dermatologie ».\n"
    "Lien : https://chariot.example/salle/abc?t=xyz\n\n"
    "L'équipe soignante de l'EHPAD Les Tilleuls — ça marche, à bientôt !\n"
)


def plain(port: int, **extra: object) -> MailConfig:
    return MailConfig(smtp_host="127.0.0.1", smtp_port=port, security="none",
                      sender="EHPAD Les Tilleuls <chariot@tilleuls.example>", timeout_seconds=5, **extra)


def failure(config: MailConfig, to: str = "dr.lefevre@hopital.example") -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        run_async(send_mail(config, to, SUBJECT, TEXT))
    return caught.value


def test_email_arrives_with_french_text_and_headers_intact() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        run_async(send_mail(plain(port), "dr.lefevre@hopital.example", SUBJECT, TEXT))
    [received] = inbox.received
    assert (received.sender, received.recipients) == ("chariot@tilleuls.example", ["dr.lefevre@hopital.example"])
    message = received.message
    assert message["From"] == "EHPAD Les Tilleuls <chariot@tilleuls.example>"
    assert message["To"] == "dr.lefevre@hopital.example"
    assert message["Subject"] == SUBJECT
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@tilleuls.example>")
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message.get_content() == TEXT


def test_each_email_has_its_own_message_id() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        for _ in range(2):
            run_async(send_mail(plain(port), "dr.lefevre@hopital.example", SUBJECT, TEXT))
    first, second = (r.message["Message-ID"] for r in inbox.received)
    assert first != second


def test_refused_recipient_is_a_permanent_failure() -> None:
    inbox = Inbox(refuse={"inconnu@hopital.example"})
    with smtp_server(inbox) as port:
        error = failure(plain(port), "inconnu@hopital.example")
    assert (error.message, error.permanent) == ("Adresse refusée par le serveur de messagerie (550)", True)
    assert inbox.received == []


def test_relay_down_is_temporary() -> None:
    error = failure(plain(free_port()))
    assert (error.message, error.permanent) == ("Serveur de messagerie injoignable (connexion refusée)", False)


def test_relay_that_never_answers_times_out_as_temporary() -> None:
    async def scenario() -> DeliveryError:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # never sends the greeting

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(DeliveryError) as caught:
                await send_mail(plain(port).model_copy(update={"timeout_seconds": 0.3}), "a@b.example", SUBJECT, TEXT)
            return caught.value
        finally:
            server.close()

    error = run_async(scenario())
    assert (error.message, error.permanent) == ("Le serveur de messagerie ne répond pas (délai dépassé)", False)


def test_unconfigured_relay_keeps_the_message_waiting() -> None:
    error = failure(MailConfig())
    assert (error.message, error.permanent) == ("Messagerie non configurée sur le chariot", False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_on_a_relay_that_requires_it() -> None:
    inbox = Inbox()
    # aiosmtpd refuses AUTH without TLS unless told otherwise (auth_require_tls defaults to True).
    with smtp_server(inbox, authenticator=accept_only("chariot", "sécret"), auth_required=True, auth_require_tls=False) as port:
        run_async(send_mail(plain(port, username="chariot", password="sécret"), "a@b.example", SUBJECT, TEXT))
        wrong = failure(plain(port, username="chariot", password="faux"))
        anonymous = failure(plain(port))
    assert len(inbox.received) == 1
    # The cart's settings are wrong, not the message: it waits until they are fixed.
    assert (wrong.message, wrong.permanent) == ("Identifiant ou mot de passe refusé par le serveur de messagerie (535)", False)
    assert (anonymous.message, anonymous.permanent) == ("Le serveur de messagerie exige une identification ou une connexion chiffrée (530)", False)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command for a self-signed certificate")
def test_starttls_trusts_only_a_valid_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_side, require_starttls=True) as port:
        config = plain(port).model_copy(update={"security": "starttls"})
        untrusted = failure(config)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what ssl.create_default_context() trusts
        run_async(send_mail(config, "dr.lefevre@hopital.example", SUBJECT, TEXT))
        # security = "none" must not send in clear to a relay that demands STARTTLS, nor upgrade silently.
        refused_in_clear = failure(plain(port))
    assert (untrusted.message, untrusted.permanent) == (
        "Connexion chiffrée au serveur de messagerie impossible (certificat ou protocole refusé)", False)
    assert [r.message.get_content() for r in inbox.received] == [TEXT]
    assert (refused_in_clear.message, refused_in_clear.permanent) == (
        "Le serveur de messagerie exige une identification ou une connexion chiffrée (530)", False)


def test_starttls_required_but_not_offered_is_not_sent_in_clear() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        error = failure(plain(port).model_copy(update={"security": "starttls"}))
    assert (error.message, error.permanent) == ("Le serveur de messagerie ne propose pas la connexion chiffrée demandée (STARTTLS)", False)
    assert inbox.received == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command for a self-signed certificate")
def test_implicit_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_side) as port:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        run_async(send_mail(plain(port).model_copy(update={"security": "tls"}), "a@b.example", SUBJECT, TEXT))
    assert [r.message["Subject"] for r in inbox.received] == [SUBJECT]
