"""Printing at the cart: a dossier's PDF document or its report sent to the EHPAD's printer
through CUPS (agent/printing/), the job followed until it is done, and the printers for the
technician. Whoever may download a dossier's documents may print them (health.read)."""

from __future__ import annotations

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.printing import PrinterOut, PrintersOut, PrintIn, PrintJobOut
from agent.printing.service import PrintJob

_TAGS = ("impression",)


def _job_out(job: PrintJob) -> PrintJobOut:
    s = job.status
    return PrintJobOut(id=job.id, dossier_id=job.dossier_id, document_id=job.document_id, what=job.what, printer=job.printer, cups_job=job.cups_id,
                       copies=job.copies, state=s.state, label=s.label, message=job.message, detail=s.detail, done=s.done,
                       trouble=s.trouble, unreachable=job.unreachable, created_at=job.created_at, updated_at=job.updated_at)


@API.route("POST", "/dossiers/{id}/documents/{document}/print", summary="Imprimer un document PDF du télédossier (CUPS)",
           tags=_TAGS, access=Permission.HEALTH_READ, body=PrintIn, response=PrintJobOut, status=201, errors=(409,))
async def print_document(call: Call) -> PrintJobOut:
    match = call.request.match_info
    job = await services_of(call.request).printing.print_document(match["id"], match["document"], call.actor, call.body.copies)
    return _job_out(job)


@API.route("POST", "/dossiers/{id}/report/print", summary="Imprimer le compte rendu de téléconsultation (CUPS)",
           tags=_TAGS, access=Permission.HEALTH_READ, body=PrintIn, response=PrintJobOut, status=201, errors=(409,))
async def print_report(call: Call) -> PrintJobOut:
    job = await services_of(call.request).printing.print_report(call.request.match_info["id"], call.actor, call.body.copies)
    return _job_out(job)


@API.route("GET", "/dossiers/{id}/print-jobs/{job}", summary="Où en est une impression (à interroger jusqu'à « done »)",
           tags=_TAGS, access=Permission.HEALTH_READ, response=PrintJobOut)
async def print_job(call: Call) -> PrintJobOut:
    match = call.request.match_info
    return _job_out(services_of(call.request).printing.job(match["id"], match["job"]))


@API.route("DELETE", "/dossiers/{id}/print-jobs/{job}", summary="Annuler une impression qui n'est pas terminée",
           tags=_TAGS, access=Permission.HEALTH_READ, response=PrintJobOut, errors=(409,))
async def cancel_print_job(call: Call) -> PrintJobOut:
    match = call.request.match_info
    return _job_out(await services_of(call.request).printing.cancel(match["id"], match["job"], call.actor))


@API.route("GET", "/printers", summary="Les imprimantes du service d'impression (CUPS), leur état, celle que le chariot utilise",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=PrintersOut)
async def printers(call: Call) -> PrintersOut:
    found = await services_of(call.request).printing.printers()
    chosen = found.chosen or found.default
    return PrintersOut(server=found.server, chosen=found.chosen, default=found.default, printers=[
        PrinterOut(name=q.name, info=q.info, location=q.location, model=q.model, state=q.status.state, label=q.status.label,
                   message=q.status.detail, accepting=q.accepting, is_default=q.name == found.default, is_chosen=q.name == chosen)
        for q in found.queues])
