"""Printing at the cart against a real CUPS (tests/printing/cups_server.py): a live agent whose
`[printing] server` is a private cupsd, printing a dossier's PDFs to cups-pdf (the pages read
back with pypdf) and to a test printer that runs out of paper, goes offline or refuses the
document; the states the kiosk reads, the audit records, and what the nurse is told when CUPS is
down or the printer is gone."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from agent.access.roles import Role
from agent.config import PrintingConfig
from agent.printing import cups_client
from agent.printing.service import PrintService
from agent.refusal import Refused
from tests.api.helpers import API, assert_error, audit_items, patient
from tests.documents import samples
from tests.live import LiveAgent, running_agent
from tests.notify.servers import run_async
from tests.printing.cups_server import CupsServer, available, cups_server, printed

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))


@dataclass
class PrintCart:
    agent: LiveAgent
    cups: CupsServer
    pdf_out: Path  # where the cups-pdf queue « pdf » writes
    floor_out: Path  # where the test printer « etage » puts what it prints
    nurse: requests.Session
    admin: requests.Session
    dossier_id: str

    def url(self, path: str) -> str:
        return f"{self.agent.url}{API}{path}"

    def upload(self, name: str, data: bytes, kind: str = "ordonnance") -> str:
        reply = self.nurse.post(self.url(f"/dossiers/{self.dossier_id}/documents"), files={"file": (name, data)}, data={"kind": kind})
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    def print_document(self, document_id: str, **body: Any) -> requests.Response:
        return self.nurse.post(self.url(f"/dossiers/{self.dossier_id}/documents/{document_id}/print"), json=body)

    def job(self, job_id: str) -> dict[str, Any]:
        reply = self.nurse.get(self.url(f"/dossiers/{self.dossier_id}/print-jobs/{job_id}"))
        assert reply.status_code == 200, reply.text
        return reply.json()

    def until(self, job_id: str, state: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["state"] == state or time.monotonic() > deadline:
                assert job["state"] == state, job
                return job
            time.sleep(0.2)

    def audit(self, action: str) -> list[dict[str, Any]]:
        return [item for item in audit_items(self.agent, self.admin) if item["action"] == action]


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrintCart]:
    with cups_server() as cups:
        pdf_out = cups.add_pdf_printer("pdf", info="Imprimante PDF", location="Infirmerie")
        floor_out = cups.add_test_printer("etage")
        cups.set_default("pdf")
        with running_agent(tmp_path_factory.mktemp("agent"), printing={"server": cups.address}) as agent:
            nurse = agent.login(agent.add_account(Role.NURSE))
            made = nurse.post(f"{agent.url}{API}/patients", json=patient(birth_name="FONTAINE", first_names=["Odette"], sex="F",
                                                                         birth_date="1933-03-08", confirm_duplicate=True))
            dossier = nurse.post(f"{agent.url}{API}/dossiers", json={
                "patient_id": made.json()["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
                "specialist": {"name": "ROUX", "first_name": "Antoine", "specialty": "Dermatologie", "email": "dr.roux@example.fr"},
                "slot": {"now": True}, "confirm_overlap": True})
            assert dossier.status_code == 201, dossier.text
            yield PrintCart(agent, cups, pdf_out, floor_out, nurse, agent.login(agent.add_account(Role.ADMIN)), dossier.json()["id"])


@pytest.fixture
def on_the_floor_printer(cart: PrintCart) -> Iterator[None]:
    """The CUPS default destination (the agent's, `[printing] printer` being empty) is the test printer."""
    cart.cups.set_default("etage")
    try:
        yield
    finally:
        cart.cups.set_mode("etage", "ok")
        cart.cups.set_default("pdf")


def _texts(pdf: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_prescription_comes_out_of_the_printer_as_the_dossier_holds_it(cart: PrintCart) -> None:
    original = samples.pdf(["Ordonnance du Dr Roux", "Amoxicilline 1 g matin et soir, 7 jours", "Pansement hydrocolloïde tous les 3 jours"])
    document_id = cart.upload("ordonnance-fontaine.pdf", original)

    reply = cart.print_document(document_id)
    assert reply.status_code == 201, reply.text
    job = reply.json()
    assert (job["printer"], job["document_id"], job["what"]) == ("pdf", document_id, "Ordonnance « ordonnance-fontaine.pdf »")
    if not job["done"]:  # the request waits 2.5 s at most; cups-pdf takes about 0.3 s
        job = cart.until(job["id"], "printed")
    assert (job["state"], job["label"], job["done"], job["trouble"]) == ("printed", "imprimé", True, False)
    assert job["message"] == "Imprimé sur « pdf »."

    out = printed(cart.pdf_out, job["cups_job"]).read_bytes()
    assert b"Ghostscript" in out  # really through CUPS's filters and cups-pdf, not a copy
    assert _texts(out) == _texts(original)
    assert "FONTAINE" not in printed(cart.pdf_out, job["cups_job"]).name  # the job's name on the print server names no resident

    sent = cart.audit("document.print")[0]
    assert sent["outcome"] == "success" and "Ordonnance « ordonnance-fontaine.pdf »" in sent["detail"]
    assert f"« pdf » (travail {job['cups_job']})" in sent["detail"] and sent["patient_id"]
    deadline = time.monotonic() + 5
    while not (outcomes := cart.audit("print.outcome")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert outcomes[0]["outcome"] == "success" and outcomes[0]["detail"].endswith(": imprimé")


def test_the_report_prints_and_reads_as_the_downloaded_one(cart: PrintCart) -> None:
    reply = cart.nurse.post(cart.url(f"/dossiers/{cart.dossier_id}/report/print"), json={})
    assert reply.status_code == 201, reply.text
    job = reply.json() if reply.json()["done"] else cart.until(reply.json()["id"], "printed")
    assert job["state"] == "printed" and job["document_id"] is None and job["what"] == "Compte rendu"
    downloaded = cart.nurse.get(cart.url(f"/dossiers/{cart.dossier_id}/report.pdf")).content
    made_at = re.compile(r"\d{2}/\d{2}/\d{4} à \d{2}:\d{2}")  # « édité le … »: the minute may have turned
    on_paper = [made_at.sub("…", t) for t in _texts(printed(cart.pdf_out, job["cups_job"]).read_bytes())]
    assert on_paper == [made_at.sub("…", t) for t in _texts(downloaded)]
    assert "FONTAINE Odette" in on_paper[0]
    assert cart.audit("report.print")[0]["outcome"] == "success"


def test_out_of_paper_is_said_and_the_job_comes_out_once_paper_is_back(cart: PrintCart, on_the_floor_printer: None) -> None:
    original = samples.pdf(["Bon de pharmacie"])
    document_id = cart.upload("pharmacie.pdf", original)
    cart.cups.set_mode("etage", "media-empty")
    job = cart.print_document(document_id).json()
    if job["state"] != "no_paper":
        job = cart.until(job["id"], "no_paper")
    assert (job["label"], job["trouble"], job["done"], job["printer"]) == ("plus de papier", True, False, "etage")
    assert "remettez du papier" in job["message"]

    cart.cups.set_mode("etage", "ok")  # paper put back, the queue resumed
    job = cart.until(job["id"], "printed")
    assert (cart.floor_out / f"job-{job['cups_job']}.pdf").read_bytes() == original  # a raw queue: the very bytes


def test_an_offline_printer_is_said_and_the_nurse_can_cancel(cart: PrintCart, on_the_floor_printer: None) -> None:
    document_id = cart.upload("courrier.pdf", samples.pdf(["Courrier au médecin traitant"]), kind="courrier")
    cart.cups.set_mode("etage", "offline")
    job = cart.print_document(document_id, copies=2).json()
    if job["state"] != "offline":
        job = cart.until(job["id"], "offline")
    assert (job["label"], job["trouble"], job["copies"]) == ("imprimante hors ligne", True, 2)

    cancelled = cart.nurse.delete(cart.url(f"/dossiers/{cart.dossier_id}/print-jobs/{job['id']}"))
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["state"], cancelled.json()["label"], cancelled.json()["done"]) == ("cancelled", "annulé", True)
    assert_error(cart.nurse.delete(cart.url(f"/dossiers/{cart.dossier_id}/print-jobs/{job['id']}")), 409, "print_job_over")
    assert cart.audit("print.cancel")
    # « … : annulé », followed by the printer's message when CUPS had one at that moment (« (hors ligne) »)
    outcomes = cart.audit("print.outcome")
    assert any(o["outcome"] == "failure" and "« courrier.pdf »" in o["detail"] and ": annulé" in o["detail"] for o in outcomes), outcomes


def test_a_printer_that_refuses_the_document_cancels_it(cart: PrintCart, on_the_floor_printer: None) -> None:
    document_id = cart.upload("refus.pdf", samples.pdf(["Refusé"]))
    cart.cups.set_mode("etage", "fail")
    job = cart.print_document(document_id).json()
    if not job["done"]:
        job = cart.until(job["id"], "cancelled")
    assert (job["state"], job["label"], job["detail"]) == ("cancelled", "annulé", "document refused")


def test_cups_down_is_said_in_french_and_nothing_is_lost(cart: PrintCart) -> None:
    document_id = cart.upload("avant-panne.pdf", samples.pdf(["Ordonnance avant la panne"]))
    cart.cups.stop()
    try:
        started = time.monotonic()
        body = assert_error(cart.print_document(document_id), 503, "print_server_down")
        assert time.monotonic() - started < 2
        assert body["message"].startswith("Le service d'impression (CUPS) ne répond pas : rien n'a été imprimé")
        assert_error(cart.nurse.post(cart.url(f"/dossiers/{cart.dossier_id}/report/print"), json={}), 503, "print_server_down")
        refused = [a for a in cart.audit("document.print") if a["outcome"] == "failure"]
        assert refused and "service d'impression injoignable" in refused[0]["detail"]
        listed = cart.nurse.get(cart.url(f"/dossiers/{cart.dossier_id}")).json()["documents"]
        assert document_id in {d["id"] for d in listed}
    finally:
        cart.cups.start()
    job = cart.print_document(document_id).json()  # CUPS back: the same document prints
    assert (job if job["done"] else cart.until(job["id"], "printed"))["state"] == "printed"


def test_a_waiting_job_outlives_a_cups_restart(cart: PrintCart, on_the_floor_printer: None) -> None:
    """Out of paper, then CUPS stops: the page is told CUPS no longer answers and keeps the last
    state; CUPS back (its spool kept the job) and paper put in, the job comes out."""
    original = samples.pdf(["Ordonnance en attente de papier"])
    document_id = cart.upload("attente.pdf", original)
    cart.cups.set_mode("etage", "media-empty")
    job = cart.print_document(document_id).json()
    if job["state"] != "no_paper":
        job = cart.until(job["id"], "no_paper")
    cart.cups.stop()
    try:
        deadline = time.monotonic() + 6
        while not (seen := cart.job(job["id"]))["unreachable"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (seen["unreachable"], seen["state"], seen["done"]) == (True, "no_paper", False)
        assert seen["message"].startswith("Le service d'impression ne répond plus : dernier état connu, « plus de papier ».")
    finally:
        cart.cups.start()
    cart.cups.set_mode("etage", "ok")
    done = cart.until(job["id"], "printed")
    assert not done["unreachable"]
    assert (cart.floor_out / f"job-{job['cups_job']}.pdf").read_bytes() == original


def test_only_the_cart_s_pdfs_and_only_staff_who_read_the_dossier(cart: PrintCart) -> None:
    photo = cart.upload("plaie.png", samples.image("PNG", (32, 32)), kind="photo")
    body = assert_error(cart.print_document(photo), 409, "not_printable")
    assert "« plaie.png »" in body["message"]
    assert_error(cart.print_document("00000000-0000-0000-0000-000000000000"), 404, "not_found")
    assert_error(cart.print_document(photo, path="/etc/shadow"), 422, "invalid_request")  # no file named by the client
    assert_error(cart.print_document(photo, copies=50), 422, "invalid_request")
    technician = cart.agent.login(cart.agent.add_account(Role.TECHNICIAN))
    assert_error(technician.post(cart.url(f"/dossiers/{cart.dossier_id}/report/print"), json={}), 403, "forbidden")
    assert_error(cart.nurse.get(cart.url(f"/dossiers/{cart.dossier_id}/print-jobs/nope")), 404, "print_job_gone")
    assert_error(cart.nurse.get(cart.url("/printers")), 403, "forbidden")


def test_the_technician_lists_the_printers_with_their_state(cart: PrintCart, on_the_floor_printer: None) -> None:
    technician = cart.agent.login(cart.agent.add_account(Role.TECHNICIAN))
    cart.cups.set_mode("etage", "media-empty")
    cart.print_document(cart.upload("vide.pdf", samples.pdf(["Pour vider le bac"])))
    reply = technician.get(cart.url("/printers"))
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert (found["server"], found["chosen"], found["default"]) == (cart.cups.address, "", "etage")
    by_name = {p["name"]: p for p in found["printers"]}
    assert set(by_name) == {"pdf", "etage"}
    assert (by_name["pdf"]["info"], by_name["pdf"]["location"], by_name["pdf"]["state"], by_name["pdf"]["label"]) == (
        "Imprimante PDF", "Infirmerie", "ready", "prête")
    assert (by_name["etage"]["state"], by_name["etage"]["label"], by_name["etage"]["is_default"], by_name["etage"]["is_chosen"]) == (
        "no_paper", "plus de papier", True, True)


def test_the_chosen_printer_is_checked_against_cups(cart: PrintCart) -> None:
    """`PrintService.choose`, which the technician's page calls; and a chosen printer that vanished."""
    async def scenario() -> None:
        service = PrintService(PrintingConfig(server=cart.cups.address), None, None, None)  # type: ignore[arg-type]
        try:
            assert await service.choose("etage") == "etage" and service.printer == "etage"
            with pytest.raises(Refused) as refused:
                await service.choose("disparue")
            assert (refused.value.code, refused.value.params, service.printer) == ("printer_missing", {"printer": "disparue"}, "etage")
            assert await service.choose(" ") == ""
            listed = await service.printers()
            assert (listed.chosen, listed.default, [q.name for q in listed.queues]) == ("", "pdf", ["etage", "pdf"])
        finally:
            await service.close()
    run_async(scenario())
    with pytest.raises(Refused) as refused:
        cups_client.submit(cart.cups.address, "disparue", "Telecart test", samples.pdf(["x"]))
    assert (refused.value.code, refused.value.params) == ("printer_missing", {"printer": "disparue"})
    cart.cups.run("cupsreject", "etage")  # an administrator stopped the queue taking jobs
    try:
        with pytest.raises(Refused) as refused:
            cups_client.submit(cart.cups.address, "etage", "Telecart test", samples.pdf(["x"]))
        assert (refused.value.code, refused.value.params) == ("printer_refusing", {"printer": "etage"})
    finally:
        cart.cups.run("cupsaccept", "etage")
