"""One SMS, one attempt, through the HTTP gateway of `[sms]`: POST {"to", "text"} as JSON.

The text may hold a one-time code or a link that opens a room: it is never logged, and the
recipient only masked.
"""

from __future__ import annotations

import logging

import aiohttp

from agent.config import SmsConfig
from agent.logs import fields
from agent.notify import DeliveryError, masked

log = logging.getLogger(__name__)

NOT_CONFIGURED = "Passerelle SMS non configurée"


async def send_sms(config: SmsConfig, http: aiohttp.ClientSession, to: str, text: str) -> None:
    """Send one SMS or raise DeliveryError. 2xx is success; 4xx other than 408 and 429 means the
    gateway will never take this message (permanent); anything else is tried again later."""
    if not config.gateway_url:
        raise DeliveryError(NOT_CONFIGURED, permanent=False)
    headers = {"Authorization": f"Bearer {config.bearer_token}"} if config.bearer_token else {}
    try:
        async with http.post(
            config.gateway_url, json={"to": to, "text": text}, headers=headers,
            timeout=aiohttp.ClientTimeout(total=config.timeout_seconds), allow_redirects=False,
        ) as reply:
            status = reply.status
    except TimeoutError as exc:
        raise DeliveryError("La passerelle SMS ne répond pas (délai dépassé)", permanent=False) from exc
    except aiohttp.InvalidURL as exc:
        raise DeliveryError("Adresse de la passerelle SMS invalide", permanent=False) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise DeliveryError("Passerelle SMS injoignable", permanent=False) from exc
    if 200 <= status < 300:
        return
    log.warning("SMS gateway answered %d", status, extra=fields(event="sms_refused", status=status, recipient=masked(to)))
    if status in (401, 403):  # the cart's token, not the message: it goes once the settings are fixed
        raise DeliveryError(f"La passerelle SMS refuse l'identification du chariot ({status})", permanent=False)
    if 400 <= status < 500 and status not in (408, 429):
        raise DeliveryError(f"La passerelle SMS a refusé le message ({status})", permanent=True)
    raise DeliveryError(f"La passerelle SMS est momentanément indisponible ({status})", permanent=False)

