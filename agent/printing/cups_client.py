"""The few CUPS calls the cart makes, through pycups (OpenPrinting's bindings of libcups).

Every function here blocks (libcups speaks IPP over HTTP synchronously, up to its own 30 s
connection timeout): the print service runs them in threads of its own, never on the event loop.
Each call opens its own connection: libcups keeps its server and user per thread, so nothing is
shared between threads. CUPS's failures become `PrintRefused` with the API error code whose
French message the nurse reads (agent/api/errors.py): the server down, the printer gone, no
printer chosen and no default, a printer refusing jobs.

The document is streamed to CUPS (Create-Job, Send-Document): no copy of a resident's PDF is
written to the cart's disk to be printed.

pycups is imported on first use: a cart whose image lacks libcups cannot print (and says so),
but the agent still starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from agent.printing import states
from agent.refusal import Refused

log = logging.getLogger(__name__)

_JOB_ATTRIBUTES = ["job-id", "job-state", "job-state-reasons", "job-printer-state-message"]
_PRINTER_ATTRIBUTES = ["printer-state", "printer-state-reasons", "printer-state-message"]
# IPP status codes (RFC 8011 §B, as libcups numbers them) and a CUPS printer-type bit
IPP_NOT_FOUND, IPP_INTERNAL_ERROR, IPP_SERVICE_UNAVAILABLE, HTTP_ERROR = 0x406, 0x500, 0x502, -1
CUPS_PRINTER_REJECTING = 0x80000
_SERVER_GONE = {IPP_SERVICE_UNAVAILABLE, IPP_INTERNAL_ERROR, HTTP_ERROR}


class PrintRefused(Refused):
    """CUPS said no, or did not answer: nothing was printed."""


@dataclass(frozen=True)
class Queue:
    name: str
    info: str
    location: str
    model: str
    accepting: bool
    status: states.Status


def _pycups() -> ModuleType:
    try:
        import cups
    except ImportError as exc:  # libcups2 missing from the image: printing only is lost
        log.error("printing unavailable: pycups does not load (%s)", exc)
        raise PrintRefused("printing_missing") from exc
    return cups


def address(server: str) -> tuple[str, int]:
    """`[printing] server` as libcups takes it: "" the system's (CUPS_SERVER, client.conf, else the
    local cupsd), a socket path, a host, host:port or [v6]:port."""
    server = server.strip()
    if not server:
        cups = _pycups()
        return cups.getServer(), cups.getPort()
    if server.startswith("/"):
        return server, 631  # a socket: libcups ignores the port
    host, colon, port = server.rpartition(":")
    if colon and port.isdigit() and (host.endswith("]") or ":" not in host):
        return host.strip("[]"), int(port)
    return server.strip("[]"), 631


def connect(server: str) -> Any:
    """A `cups.Connection` to the server."""
    cups = _pycups()
    host, port = address(server)
    try:
        return cups.Connection(host=host, port=port)
    except RuntimeError as exc:  # "failed to connect to server"
        raise PrintRefused("print_server_down") from exc


def _errors() -> tuple[type[Exception], ...]:
    cups = _pycups()
    return cups.IPPError, cups.HTTPError


def _refusal(exc: Exception, printer: str) -> PrintRefused:
    if isinstance(exc, _pycups().HTTPError):
        return PrintRefused("print_server_down")
    status = exc.args[0] if exc.args else None
    if status in _SERVER_GONE:
        return PrintRefused("print_server_down")
    if status == IPP_NOT_FOUND:
        return PrintRefused("printer_missing", printer=printer)
    return PrintRefused("printer_refusing", printer=printer)


def _chosen(connection: Any, printer: str) -> str:
    """The queue to print on: the one chosen, else the server's default destination."""
    if printer:
        return printer
    default = connection.getDefault()
    if not default:
        raise PrintRefused("no_printer")
    return str(default)


def submit(server: str, printer: str, title: str, pdf: bytes, copies: int = 1) -> tuple[str, int]:
    """`pdf` sent to `printer` (or the default destination); the queue's name and the job's id."""
    connection = connect(server)
    queue = ""
    try:
        queue = _chosen(connection, printer)
        # Asked first: Create-Job on a queue that does not exist fails with an internal error
        # (libcups resolves the queue itself), which would read as CUPS being down.
        if not connection.getPrinterAttributes(queue, requested_attributes=["printer-is-accepting-jobs"]).get("printer-is-accepting-jobs", True):
            raise PrintRefused("printer_refusing", printer=queue)
        job_id = connection.createJob(queue, title, {"copies": str(copies)})
        try:
            connection.startDocument(queue, job_id, title, "application/pdf", 1)
            connection.writeRequestData(pdf, len(pdf))
            connection.finishDocument(queue)
        except _errors():
            try:
                connection.cancelJob(job_id)  # an empty job left waiting would print nothing
            except (*_errors(), RuntimeError):
                pass
            raise
    except _errors() as exc:
        raise _refusal(exc, queue or printer) from exc
    return queue, int(job_id)


def job_status(server: str, job_id: int, printer: str) -> states.Status:
    """Where the job stands, with its printer's trouble if it waits on it."""
    connection = connect(server)
    try:
        job = connection.getJobAttributes(job_id, requested_attributes=_JOB_ATTRIBUTES)
    except _errors() as exc:
        if isinstance(exc, _pycups().IPPError) and exc.args and exc.args[0] == IPP_NOT_FOUND:  # purged, or a cupsd that lost its spool
            return states.status("lost")
        raise _refusal(exc, printer) from exc
    try:
        printer_attributes = connection.getPrinterAttributes(printer, requested_attributes=_PRINTER_ATTRIBUTES)
    except _errors():
        printer_attributes = None  # the queue was deleted under its job
    return states.job_status(job, printer_attributes)


def cancel(server: str, job_id: int, printer: str) -> None:
    connection = connect(server)
    try:
        connection.cancelJob(job_id)
    except _errors() as exc:
        raise _refusal(exc, printer) from exc


def queues(server: str) -> tuple[list[Queue], str | None]:
    """Every queue of the server with its state, and the server's default destination."""
    connection = connect(server)
    try:
        found = connection.getPrinters()
        default = connection.getDefault()
    except _errors() as exc:
        raise _refusal(exc, "") from exc
    listed = [Queue(name=name, info=str(a.get("printer-info") or ""), location=str(a.get("printer-location") or ""),
                    model=str(a.get("printer-make-and-model") or ""),
                    accepting=not int(a.get("printer-type", 0)) & CUPS_PRINTER_REJECTING, status=states.printer_status(a))
              for name, a in sorted(found.items())]
    return listed, (str(default) if default else None)
