"""The OpenAPI 3.1 document, built from the route declarations and the pydantic models.

The running agent builds it at its first request (`lazy_document`), not at start: about 50 ms of
pydantic's schema generation for a document few ever open (docs/architecture.md, "What loads
when")."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from agent.api.guard import CSRF_HEADER, SESSION_COOKIE
from agent.api.routing import PUBLIC, Api
from agent.api.schemas.common import ErrorBody

_PATH_PARAM = re.compile(r"{(\w+)}")
_REF = "#/components/schemas/{model}"

_STATUS_TEXT = {
    200: "Succès", 201: "Créé", 204: "Fait, sans contenu", 400: "Requête mal formée", 401: "Non authentifié",
    403: "Refusé", 404: "Introuvable", 409: "Conflit (doublon probable)", 413: "Trop volumineux", 415: "Format non pris en charge",
    421: "Nom d'hôte refusé", 422: "Champs incorrects", 423: "Verrouillé", 503: "Indisponible (disque plein, démarrage)",
}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def lazy_document(api: Api, version: str) -> Callable[[], dict[str, Any]]:
    """The document, built when first asked for, then the same one each time."""
    return functools.cache(functools.partial(build_document, api, version))


def build_document(api: Api, version: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorBody}
    for op in api.operations:
        models.update(m for m in (op.body, op.response) if m is not None)
    keyed = [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)]
    _, defs = models_json_schema(keyed, ref_template=_REF)
    components = defs.get("$defs", {})

    paths: dict[str, Any] = {}
    for op in api.operations:
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in _PATH_PARAM.findall(op.path)
        ]
        if op.query is not None:
            params += _query_parameters(op.query)
        if op.needs_csrf:
            params.append({"name": CSRF_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
                           "description": "The csrf_token of GET /api/v1/session"})
        success: dict[str, Any] = {"description": _STATUS_TEXT.get(op.status, "Succès")}
        if op.response is not None:
            success["content"] = {op.content_type: {"schema": {"$ref": _REF.format(model=op.response.__name__)}}}
        elif op.content_type != "application/json":
            success["content"] = {op.content_type: {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {str(op.status): success}
        for code in op.all_errors():
            responses[str(code)] = {
                "description": _STATUS_TEXT.get(code, "Erreur"),
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}},
            }
        operation: dict[str, Any] = {
            "operationId": op.handler.__name__,
            "summary": op.summary,
            "tags": list(op.tags),
            "parameters": params,
            "responses": responses,
        }
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": _REF.format(model=op.body.__name__)}}},
            }
        if op.upload:
            operation["requestBody"] = {
                "required": True,
                "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"},
                                   "name": {"type": "string", "maxLength": 200}, "kind": {"type": "string"}},
                }}},
            }
        operation["security"] = [] if op.access == PUBLIC else [{"sessionCookie": []}]
        paths.setdefault(op.path, {})[op.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telecart agent API",
            "version": version,
            "description": "REST API of a telemedicine cart. Errors are JSON with a French `message`.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}},
        },
    }
