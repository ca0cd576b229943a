"""Readiness and Prometheus metrics, as a monitoring system reads them."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api.helpers import API, anonymous, current_code, logged_in, patient, post_login
from tests.live import LiveAgent


def _samples(agent: LiveAgent) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = anonymous().get(f"{agent.url}/metrics")
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain"), reply.headers
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_healthz_says_ok(shared_agent: LiveAgent) -> None:
    reply = anonymous().get(f"{shared_agent.url}/healthz")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json()["status"] == "ok"


def test_metrics_count_requests_and_logins(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    before = _samples(shared_agent)
    assert post_login(shared_agent, account.login, "not-the-password", current_code(account)).status_code == 401
    assert post_login(shared_agent, account.login, account.password, account.code()).status_code == 201
    text = anonymous().get(f"{shared_agent.url}/metrics").text
    assert "telecart_http_requests_total" in text
    assert 'telecart_logins_total{outcome="success"}' in text
    after = _samples(shared_agent)

    assert _value(after, "telecart_logins_total", outcome="success") == _value(before, "telecart_logins_total", outcome="success") + 1
    assert (_value(after, "telecart_logins_total", outcome="bad_credentials")
            == _value(before, "telecart_logins_total", outcome="bad_credentials") + 1)
    posted = {"method": "POST", "route": "/api/v1/session"}
    assert _value(after, "telecart_http_requests_total", status="201", **posted) == _value(before, "telecart_http_requests_total", status="201", **posted) + 1
    assert _value(after, "telecart_http_requests_total", status="401", **posted) == _value(before, "telecart_http_requests_total", status="401", **posted) + 1
    assert _value(after, "telecart_sessions_active") >= 1


def test_metrics_never_name_a_patient(shared_agent: LiveAgent) -> None:
    """Routes are counted by their template, so no patient identifier leaks into monitoring."""
    nurse = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    pid = nurse.post(f"{shared_agent.url}{API}/patients", json=body).json()["id"]
    assert nurse.get(f"{shared_agent.url}{API}/patients/{pid}").status_code == 200
    text = anonymous().get(f"{shared_agent.url}/metrics").text
    assert 'route="/api/v1/patients/{id}"' in text
    assert pid not in text and body["birth_name"] not in text
