"""What CUPS says of a job and its printer, in the nurse's words (agent/printing/states.py). The
attributes are those Debian's cups 2.4 gave in tests/printing/ and in the measures of the notes
(../shared/notes/print-discovery-mail-update-here.md §1)."""

from __future__ import annotations

import sys

import pytest

from agent.printing import cups_client
from agent.printing.states import job_status, printer_status
from agent.refusal import Refused

IDLE = {"printer-state": 3, "printer-state-reasons": ["none"], "printer-state-message": ""}


def _job(state: int, reasons: str = "none", message: str = "") -> dict[str, object]:
    return {"job-state": state, "job-state-reasons": reasons, "job-printer-state-message": message}


def test_the_ordinary_path() -> None:
    assert job_status(_job(3), IDLE).label == "envoyé à l'imprimante"
    assert job_status(_job(5, "job-printing"), {**IDLE, "printer-state": 4}).label == "impression en cours"
    done = job_status(_job(9, "processing-to-stop-point"), IDLE)
    assert (done.state, done.label, done.done, done.trouble) == ("printed", "imprimé", True, False)
    assert job_status(_job(7, "job-canceled-by-user"), IDLE).label == "annulé"
    assert job_status(_job(8, "aborted-by-system"), IDLE).label == "échec de l'impression"


def test_out_of_paper_the_job_waits_on_a_stopped_printer() -> None:
    printer = {"printer-state": 5, "printer-state-reasons": ["media-empty-error", "paused"], "printer-state-message": "Out of paper"}
    waiting = job_status(_job(3, "printer-stopped", "Out of paper"), printer)
    assert (waiting.state, waiting.label, waiting.trouble, waiting.done, waiting.detail) == ("no_paper", "plus de papier", True, False, "Out of paper")
    assert printer_status(printer).label == "plus de papier"


def test_offline_while_the_backend_runs_and_while_the_job_waits_to_retry() -> None:
    running = {"printer-state": 4, "printer-state-reasons": ["media-empty-error", "offline-report"], "printer-state-message": "The printer is not responding."}
    assert job_status(_job(5, "job-printing"), running).label == "imprimante hors ligne"  # a stale media-empty-error does not win
    assert job_status(_job(4, "resources-are-not-ready"), {**IDLE, "printer-state-reasons": ["media-empty-error"]}).label == "imprimante hors ligne"


def test_a_network_printer_that_is_off_keeps_the_job_processing_with_a_message() -> None:
    printer = {"printer-state": 4, "printer-state-reasons": ["none"],
               "printer-state-message": "The printer may not exist or is unavailable at this time."}
    assert job_status(_job(5, "job-printing"), printer).state == "offline"
    french = {**printer, "printer-state-message": "L'imprimante n'existe peut-être pas ou n'est pas disponible pour le moment."}
    assert job_status(_job(5, "job-printing"), french).state == "offline"


def test_other_troubles_of_a_stopped_printer() -> None:
    for reasons, label in ((["media-jam-error"], "bourrage papier"), (["toner-empty-error"], "plus d'encre ou de toner"),
                           (["door-open-error"], "capot de l'imprimante ouvert"), (["paused"], "imprimante arrêtée"),
                           (["toner-low-warning", "paused"], "imprimante arrêtée")):
        assert job_status(_job(3, "printer-stopped"), {"printer-state": 5, "printer-state-reasons": reasons}).label == label
    assert job_status(_job(3), None).label == "envoyé à l'imprimante"  # the queue's attributes could not be read


def test_a_ready_printer_in_the_technician_s_list() -> None:
    assert (printer_status(IDLE).state, printer_status(IDLE).label) == ("ready", "prête")
    assert printer_status({**IDLE, "printer-state-reasons": ["toner-low-warning"]}).label == "prête"


def test_a_cart_without_libcups_cannot_print_but_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """pycups is imported on first use: an image without libcups2 starts, and the nurse is told."""
    monkeypatch.setitem(sys.modules, "cups", None)  # `import cups` raises ImportError
    with pytest.raises(Refused) as refused:
        cups_client.submit("/run/cups/cups.sock", "", "Telecart test", b"%PDF-1.4")
    assert refused.value.code == "printing_missing"
