"""What the worker makes of the regional server's answers: sent, a conflict for a person, a
refusal with the server's own words, a resource gone, or a retry (waiting what the server asks, in
seconds or as a date) — never a silent overwrite, never a lost change, and never "sent" on the
word of something that is not the server (a Wi-Fi portal's page)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from cloud_sync.fhir_client import _decoded, answer_of

RESPONSE_OK = json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": [{"response": {"status": "201 Created"}}]})
OUTCOME = json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": "birthDate invalide"}]})
PORTAL = "<html><body>Connectez-vous au Wi-Fi de l'EHPAD</body></html>"


def test_a_transaction_response_whose_entries_all_succeeded_is_sent() -> None:
    assert answer_of(200, RESPONSE_OK, None).outcome == "sent"
    half = json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": [{"response": {"status": "400 Bad Request"}}]})
    assert answer_of(200, half, None).outcome == "refused"


def test_a_page_that_is_not_the_servers_answer_is_tried_again_never_sent_nor_refused() -> None:
    for transaction in (True, False):
        said = answer_of(200, PORTAL, None, transaction=transaction)
        assert said.outcome == "retry" and "portail Wi-Fi" in (said.error or "")
    update = answer_of(200, json.dumps({"resourceType": "Encounter", "id": "e1", "meta": {"versionId": "4"}}), None, transaction=False)
    assert (update.outcome, update.etag) == ("sent", 'W/"4"')  # the version from the resource when the header is missing


@pytest.mark.parametrize(("status", "outcome"), [(412, "conflict"), (409, "retry"), (400, "refused"), (422, "refused"),
                                                 (401, "retry"), (429, "retry"), (503, "retry"), (404, "refused")])
def test_each_answer_has_its_outcome(status: int, outcome: str) -> None:
    said = answer_of(status, OUTCOME, None)
    assert said.outcome == outcome and said.error
    if outcome == "refused":
        assert "birthDate invalide" in said.error  # the server's own words, for the technician


def test_an_update_of_a_resource_the_server_no_longer_has_is_said_gone() -> None:
    assert [answer_of(s, OUTCOME, None, transaction=False).outcome for s in (404, 410)] == ["gone", "gone"]


def test_the_server_says_how_long_to_wait_in_seconds_or_as_a_date() -> None:
    assert answer_of(429, "", "120").retry_after == 120.0
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=5), usegmt=True)
    wait = answer_of(503, "", later).retry_after
    assert wait is not None and 280 <= wait <= 300
    assert answer_of(503, "", "bientôt").retry_after is None  # unreadable: the worker's own back-off


def test_a_body_in_another_charset_than_it_says_is_read_all_the_same() -> None:
    page = "Passerelle indisponible, réessayez".encode("cp1252")
    assert _decoded(page, "utf-8").startswith("Passerelle indisponible, r")
    assert _decoded(page, "x-unknown-charset").startswith("Passerelle")
