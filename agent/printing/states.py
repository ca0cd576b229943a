"""What CUPS says of a job and of its printer, in the nurse's words.

CUPS gives a job's state (RFC 8011: 3 pending, 4 held, 5 processing, 6 stopped, 7 canceled,
8 aborted, 9 completed) and its reasons, and the printer's state (3 idle, 4 processing,
5 stopped) with its reasons (`media-empty-error`, `offline-report`...) and message. A printer's
reasons may outlive the trouble (a `media-empty-error` stays until a job clears it), so they are
read only when the job itself is not moving: a job waiting on a stopped printer, or held because
the printer did not answer. Measured on Debian's cups 2.4 (tests/printing/): out of paper, the job
goes back to pending with `printer-stopped` and the printer stops with `media-empty-error`;
offline, the job alternates between processing (`offline-report`) and held
(`resources-are-not-ready`); a network printer that is off keeps the job processing with the ipp
backend's message "The printer may not exist or is unavailable at this time."."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# job-state (RFC 8011 §5.3.7)
PENDING, HELD, PROCESSING, STOPPED, CANCELED, ABORTED, COMPLETED = 3, 4, 5, 6, 7, 8, 9
# printer-state (RFC 8011 §5.4.11)
IDLE, BUSY, PRINTER_STOPPED = 3, 4, 5


@dataclass(frozen=True)
class Status:
    state: str  # a stable code: sent, printing, printed, offline, no_paper, ... (LABELS)
    label: str  # the same in French, as the kiosk shows it
    done: bool  # nothing more will happen to the job
    trouble: bool  # someone must act at the printer (paper, power, jam...)
    detail: str | None = None  # the printer's own message, when it says something more


LABELS = {
    "sent": "envoyé à l'imprimante",
    "printing": "impression en cours",
    "printed": "imprimé",
    "offline": "imprimante hors ligne",
    "no_paper": "plus de papier",
    "paper_jam": "bourrage papier",
    "no_toner": "plus d'encre ou de toner",
    "door_open": "capot de l'imprimante ouvert",
    "stopped": "imprimante arrêtée",
    "held": "en attente",
    "cancelled": "annulé",
    "failed": "échec de l'impression",
    "lost": "travail introuvable sur le service d'impression",
}
# The sentence under the state: what it means at the printer, and what to do.
ADVICE = {
    "sent": "Envoyé à l'imprimante « {printer} ».",
    "printing": "Impression en cours sur « {printer} ».",
    "printed": "Imprimé sur « {printer} ».",
    "offline": "L'imprimante « {printer} » ne répond pas : vérifiez qu'elle est allumée et reliée au réseau. L'impression partira dès qu'elle répondra.",
    "no_paper": "Plus de papier dans « {printer} » : remettez du papier. Si l'impression ne reprend pas, prévenez le support technique.",
    "paper_jam": "Bourrage papier dans « {printer} » : retirez la feuille coincée.",
    "no_toner": "« {printer} » n'a plus d'encre ou de toner : remplacez la cartouche.",
    "door_open": "Un capot de « {printer} » est ouvert : refermez-le.",
    "stopped": "L'imprimante « {printer} » est arrêtée sur le service d'impression : prévenez le support technique. L'impression partira quand elle sera remise en service.",
    "held": "L'impression attend sur « {printer} ».",
    "cancelled": "Impression annulée : rien de plus ne sortira.",
    "failed": "L'impression a échoué sur « {printer} » : relancez-la ; si cela se répète, prévenez le support technique.",
    "lost": "Le service d'impression ne connaît plus ce travail : vérifiez ce qui est sorti de « {printer} » et relancez l'impression s'il le faut.",
}
DONE = frozenset({"printed", "cancelled", "failed", "lost"})
TROUBLE = frozenset({"offline", "no_paper", "paper_jam", "no_toner", "door_open", "stopped"})

# printer-state-reasons keywords (RFC 8011 §5.4.12, PWG 5100.9), without their -error/-warning/-report suffix
_REASONS = (
    ("offline", "offline"), ("shutdown", "offline"), ("connecting-to-device", "offline"), ("timed-out", "offline"),
    ("media-empty", "no_paper"), ("media-needed", "no_paper"), ("input-tray-missing", "no_paper"),
    ("media-jam", "paper_jam"),
    ("toner-empty", "no_toner"), ("marker-supply-empty", "no_toner"), ("marker-waste-full", "no_toner"),
    ("door-open", "door_open"), ("cover-open", "door_open"), ("interlock-open", "door_open"),
)
# What backends say of a printer they cannot reach (ipp, socket, lpd; in English, or French when
# cupsd runs in French). Lower case; a message containing one of them means "offline".
_UNREACHABLE_MESSAGES = (
    "may not exist or is unavailable", "is not responding", "unable to locate printer", "unreachable", "unable to connect",
    "connection refused", "waiting for printer to become available",
    "n'existe peut-être pas", "ne répond pas", "injoignable", "impossible de se connecter",
)


def _keyword(reason: str) -> str:
    for suffix in ("-error", "-warning", "-report"):
        if reason.endswith(suffix):
            return reason[: -len(suffix)]
    return reason


def printer_trouble(reasons: Iterable[str], message: str = "", *, errors_only: bool = False) -> str | None:
    """The trouble a printer's reasons (or its message) name, most serious first; None when none.
    `errors_only`: ignore warnings and reports (a printer that merely runs low)."""
    found = []
    for reason in reasons:
        if errors_only and not (reason.endswith("-error") or reason.startswith(("offline", "shutdown"))):
            continue
        keyword = _keyword(reason)
        found += [state for key, state in _REASONS if keyword == key]
    order = ("offline", "no_paper", "paper_jam", "door_open", "no_toner")
    for state in order:
        if state in found:
            return state
    lowered = (message or "").lower()
    if any(words in lowered for words in _UNREACHABLE_MESSAGES):
        return "offline"
    return None


def status(state: str, detail: str | None = None) -> Status:
    return Status(state, LABELS[state], state in DONE, state in TROUBLE, detail or None)


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def job_status(job: dict[str, object], printer: dict[str, object] | None) -> Status:
    """A job's status from its attributes (`job-state`, `job-state-reasons`,
    `job-printer-state-message`) and its printer's (`printer-state`, `printer-state-reasons`,
    `printer-state-message`; None when the printer is gone)."""
    state = int(job.get("job-state", 0))  # type: ignore[call-overload]
    job_reasons = _as_list(job.get("job-state-reasons"))
    printer = printer or {}
    p_state = int(printer.get("printer-state", IDLE))  # type: ignore[call-overload]
    p_reasons = [r for r in _as_list(printer.get("printer-state-reasons")) if r != "none"]
    message = str(printer.get("printer-state-message") or job.get("job-printer-state-message") or "").strip()
    if state == COMPLETED:
        return status("printed")
    if state == CANCELED:
        return status("cancelled", message)
    if state == ABORTED:
        return status("failed", message)
    if state == PROCESSING:
        # While the job runs, the backend's live reasons are current: an offline report, or a
        # message saying the printer cannot be reached.
        if any(r.startswith("offline") for r in p_reasons) or printer_trouble([], message) == "offline":
            return status("offline", message)
        return status("printing")
    if state == HELD:
        if "resources-are-not-ready" in job_reasons:  # the backend asked to retry later: the printer did not answer
            return status("offline", message)
        return status("held", message)
    # pending or stopped: waiting for the printer
    if p_state == PRINTER_STOPPED or "printer-stopped" in job_reasons or state == STOPPED:
        trouble = printer_trouble(p_reasons, message, errors_only=True)
        return status(trouble or "stopped", message)
    return status("sent")


def printer_status(attributes: dict[str, object]) -> Status:
    """A queue as the technician's list shows it: ready, printing, or its trouble."""
    p_state = int(attributes.get("printer-state", IDLE))  # type: ignore[call-overload]
    reasons = [r for r in _as_list(attributes.get("printer-state-reasons")) if r != "none"]
    message = str(attributes.get("printer-state-message") or "").strip()
    if p_state == PRINTER_STOPPED:
        return status(printer_trouble(reasons, message, errors_only=True) or "stopped", message)
    live = printer_trouble([r for r in reasons if r.startswith("offline")], message if p_state == BUSY else "")
    if live:
        return status(live, message)
    return Status("printing" if p_state == BUSY else "ready", "impression en cours" if p_state == BUSY else "prête", False, False, message or None)
