"""Emails and SMS that leave the cart: invitations, download links, one-time codes.

- `mail.send_mail` and `sms.send_sms` make one attempt each and turn every failure into a
  `DeliveryError` with a French message for the dossier screen, marked permanent (the message can
  never go: the relay refused the address) or temporary (network down, relay busy, not yet
  configured: the queue tries again later).
- `queue` is the offline-first queue over the `deliveries` table: domain code `enqueue`s a message
  in the same transaction as the change that causes it; the `Dispatcher` sends what is due, with
  backoff, and records each outcome. A dead network delays a message, never loses it.
"""

from __future__ import annotations

__all__ = ["DeliveryError", "masked"]


class DeliveryError(Exception):
    """One sending attempt failed. `message` is French, shown on the dossier as the last error;
    `permanent` means retrying is pointless (the address itself was refused)."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def masked(recipient: str) -> str:
    """A recipient as logs may show it: enough to tell two apart, not enough to contact anyone.

    `+33612345678` -> `+33 6 •• •• •• 78`; `jeanne.martin@example.fr` -> `j•••@example.fr`."""
    if "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    digits = "".join(c for c in recipient if c.isdigit())
    if recipient.strip().startswith("+33") and len(digits) == 11:
        return f"+33 {digits[2]} •• •• •• {digits[-2:]}"
    if len(digits) <= 4:
        return "•" * len(digits)
    prefix = "+" if recipient.strip().startswith("+") else ""
    return f"{prefix}{digits[:2]}{'•' * (len(digits) - 4)}{digits[-2:]}"
