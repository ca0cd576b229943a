"""The practice mode's messages: an invitation, a login code or a share is queued and shown as
usual, and goes to nobody."""

from __future__ import annotations

import logging

from agent.notify.queue import Delivery

log = logging.getLogger("agent.practice")


class SendsNothing:
    """Every channel of the practice agent's dispatcher (agent/notify/queue.py): the attempt
    succeeds, nothing leaves the cart."""

    timeout_seconds = 1.0

    async def send(self, delivery: Delivery) -> None:
        log.info("practice: %s not sent (%s)", delivery.channel, delivery.purpose)
