"""What the worker makes of the regional server's answers: sent, a conflict for a person, a
refusal with the server's own words, or a retry (waiting what the server asks, in seconds or as a
date) — never a silent overwrite, never a lost change."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from cloud_sync.worker import _outcome

RESPONSE_OK = json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": [{"response": {"status": "201 Created"}}]})
OUTCOME = json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": "birthDate invalide"}]})


def test_a_transaction_response_whose_entries_all_succeeded_is_sent() -> None:
    assert _outcome(200, RESPONSE_OK, None) == ("sent", None, None)
    half = json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": [{"response": {"status": "400 Bad Request"}}]})
    assert _outcome(200, half, None)[0] == "refused"


@pytest.mark.parametrize(("status", "outcome"), [(412, "conflict"), (409, "retry"), (400, "refused"), (422, "refused"),
                                                 (401, "retry"), (429, "retry"), (503, "retry")])
def test_each_answer_has_its_outcome(status: int, outcome: str) -> None:
    got, said, _ = _outcome(status, OUTCOME, None)
    assert got == outcome and said
    if outcome == "refused":
        assert "birthDate invalide" in said  # the server's own words, for the technician


def test_the_server_says_how_long_to_wait_in_seconds_or_as_a_date() -> None:
    assert _outcome(429, "", "120")[2] == 120.0
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=5), usegmt=True)
    wait = _outcome(503, "", later)[2]
    assert wait is not None and 280 <= wait <= 300
    assert _outcome(503, "", "bientôt")[2] is None  # unreadable: the worker's own back-off
