"""Every route says what it takes and what it answers, so the OpenAPI document describes the
whole API and a client cannot slip unknown fields past the models."""

from __future__ import annotations

from agent.api.routes import API

# The OpenAPI document itself is the one JSON answer that is not a model of ours.
SELF_DESCRIBED = {("GET", "/api/v1/openapi.json")}


def test_every_request_model_refuses_unknown_keys() -> None:
    loose = [(op.method, op.path, model.__name__) for op in API.operations for model in (op.body, op.query)
             if model is not None and model.model_config.get("extra") != "forbid"]
    assert loose == []


def test_every_json_answer_is_declared() -> None:
    undeclared = [(op.method, op.path) for op in API.operations
                  if op.content_type == "application/json" and op.response is None and op.status != 204
                  and (op.method, op.path) not in SELF_DESCRIBED]
    assert undeclared == []


def test_no_route_module_holds_sql() -> None:
    """Queries belong to the domain packages; a route only parses, calls and answers."""
    from pathlib import Path

    routes = Path(__file__).resolve().parents[2] / "agent" / "api" / "routes"
    with_sql = [p.name for p in routes.glob("*.py") if any(word in p.read_text() for word in ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"))]
    assert with_sql == []
