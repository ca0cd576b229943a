"""One email, one attempt, through the SMTP relay of `[mail]`.

The message is plain UTF-8 text (quoted-printable, so any relay carries it intact) with the headers
a mail client expects: From, To, Subject, Date, Message-ID, and Auto-Submitted so that
out-of-office replies are not sent back to the cart.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from agent import first_use
from agent.config import MailConfig
from agent.notify import DeliveryError

NOT_CONFIGURED = "Messagerie non configurée sur le chariot"
NO_STARTTLS = "Le serveur de messagerie ne propose pas la connexion chiffrée demandée (STARTTLS)"
REQUIRES_LOGIN_OR_TLS = "Le serveur de messagerie exige une identification ou une connexion chiffrée (530)"


def build_message(config: MailConfig, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    # make_msgid() without a domain calls socket.getfqdn(), a DNS lookup that hangs on a cart offline.
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "telecart.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return message


async def send_mail(config: MailConfig, to: str, subject: str, text: str) -> None:
    """Send one email or raise DeliveryError. The whole attempt (connect, TLS, login, send) is
    bounded by `timeout_seconds`."""
    if not config.smtp_host:
        raise DeliveryError(NOT_CONFIGURED, permanent=False)
    await first_use.load("aiosmtplib")  # with the first mail, not the agent's start
    import aiosmtplib

    message = build_message(config, to, subject, text)
    try:
        async with asyncio.timeout(config.timeout_seconds):
            await aiosmtplib.send(
                message,
                hostname=config.smtp_host,
                port=config.smtp_port,
                username=config.username or None,
                password=config.password if config.username else None,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",  # False for "none": no opportunistic upgrade
                timeout=config.timeout_seconds,
                # aiosmtplib would otherwise ask socket.getfqdn() (DNS) for the EHLO name.
                local_hostname=socket.gethostname() or "telecart",
            )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        code = codes[0] if codes else 550
        if all(500 <= c < 600 for c in codes):
            raise DeliveryError(f"Adresse refusée par le serveur de messagerie ({code})", permanent=True) from exc
        raise DeliveryError(f"Adresse momentanément refusée par le serveur de messagerie ({code})", permanent=False) from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        # The cart's settings are wrong, not the message: it goes once they are fixed.
        raise DeliveryError(f"Identifiant ou mot de passe refusé par le serveur de messagerie ({exc.code})", permanent=False) from exc
    except aiosmtplib.SMTPSenderRefused as exc:
        if exc.code == 530:  # "authentication required" or "must issue STARTTLS first"
            raise DeliveryError(REQUIRES_LOGIN_OR_TLS, permanent=False) from exc
        raise DeliveryError(f"Adresse d'expéditeur refusée par le serveur de messagerie ({exc.code})", permanent=False) from exc
    except aiosmtplib.SMTPDataError as exc:
        if 500 <= exc.code < 600:
            raise DeliveryError(f"Message refusé par le serveur de messagerie ({exc.code})", permanent=True) from exc
        raise DeliveryError(f"Message momentanément refusé par le serveur de messagerie ({exc.code})", permanent=False) from exc
    except aiosmtplib.SMTPNotSupported as exc:  # only raised for an address that needs SMTPUTF8
        raise DeliveryError("Adresse avec caractères accentués non acceptée par le serveur de messagerie", permanent=True) from exc
    except TimeoutError as exc:  # also aiosmtplib's SMTPTimeoutError
        raise DeliveryError("Le serveur de messagerie ne répond pas (délai dépassé)", permanent=False) from exc
    except ssl.SSLError as exc:
        raise DeliveryError("Connexion chiffrée au serveur de messagerie impossible (certificat ou protocole refusé)", permanent=False) from exc
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code == 530:
            raise DeliveryError(REQUIRES_LOGIN_OR_TLS, permanent=False) from exc
        raise DeliveryError(f"Le serveur de messagerie a répondu par une erreur ({exc.code})", permanent=False) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:  # connection refused, reset, no route, DNS
        if type(exc) is aiosmtplib.SMTPException:  # aiosmtplib's own checks have no subclass of their own
            if "STARTTLS" in str(exc):
                raise DeliveryError(NO_STARTTLS, permanent=False) from exc
            if "AUTH" in str(exc) or "authentication" in str(exc):
                raise DeliveryError("Le serveur de messagerie ne propose pas l'identification configurée", permanent=False) from exc
        cause = exc.__cause__ if isinstance(exc, aiosmtplib.SMTPConnectError) else exc
        if isinstance(cause, ssl.SSLError):
            raise DeliveryError("Connexion chiffrée au serveur de messagerie impossible (certificat ou protocole refusé)", permanent=False) from exc
        raise DeliveryError(f"Serveur de messagerie injoignable{_why(cause)}", permanent=False) from exc


def _why(cause: BaseException | None) -> str:
    if isinstance(cause, ConnectionRefusedError):
        return " (connexion refusée)"
    if isinstance(cause, socket.gaierror):
        return " (nom du serveur inconnu ou réseau absent)"
    return ""
