"""The OpenAPI document, generated from the routes' own declarations."""
from __future__ import annotations

import re

from chalicelib import __version__, settings
from chalicelib.api.http import ROUTES

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": ["validation_error", "unauthenticated", "forbidden", "not_found", "conflict",
                                            "classified_refused", "payload_too_large", "rate_limited"]},
    },
}
PARAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"


def _query_schema(param: str, kind, default) -> dict:
    if kind is int:
        # Only a page size is bounded (http.py refuses limit outside 1..200); other integers are positions.
        schema = {"type": "integer", "minimum": 1, "maximum": 200} if param == "limit" else {"type": "integer",
                                                                                           "minimum": 0}
    elif getattr(kind, "__name__", "") == "fromisoformat":
        owner = getattr(kind, "__self__", None)
        schema = {"type": "string", "format": "date" if getattr(owner, "__name__", "") == "date" else "date-time"}
    else:
        schema = {"type": "string", "maxLength": 2048}
    if isinstance(default, (int, str)) and not isinstance(default, bool):
        schema["default"] = default
    return schema


def document() -> dict:
    components: dict = {"Problem": PROBLEM}
    paths: dict = {}
    local = settings.get().is_local
    for spec in ROUTES:
        if spec.local_only and not local:
            continue
        op: dict = {"summary": spec.summary, "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', spec.path.lower()).strip('_')}",
                    "tags": [spec.tag] if spec.tag else [], "responses": {}}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string", "pattern": PARAM_PATTERN}}
                  for p in re.findall(r"{(\w+)}", spec.path)]
        params += [{"name": name, "in": "query", "required": False, "schema": _query_schema(name, kind, default)}
                   for name, (kind, default) in spec.query.items()]
        if spec.method in ("POST", "PATCH"):
            params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": {"type": "string", "maxLength": 200}})
        if params:
            op["parameters"] = params
        if spec.body is not None:
            schema = spec.body.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                components[name] = sub
            components[spec.body.__name__] = schema
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{spec.body.__name__}"}}}}
        op["responses"][str(spec.status)] = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
        if spec.method == "GET":
            op["responses"]["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}
        errors = ["400", "404", "409", "413"] + ([] if spec.public else ["401", "403"])
        if spec.path.endswith("/documents") or spec.path.endswith("/versions"):
            errors.append("422")
        for code in errors:
            op["responses"][code] = {"description": "Problem", "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}
        if not spec.public:
            op["security"] = [{"bearer": []}]
        paths.setdefault(spec.path, {})[spec.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "e-Cabinet API", "version": __version__,
                 "description": "Meetings, opinion ballots, signed votes and resolutions of a collective body."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
