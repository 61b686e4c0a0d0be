"""The one place where requests become service calls: parsing, schemas, authentication, idempotency, ETags,
and the mapping of domain errors to problem+json. Routes declare their schemas here, and /openapi.json is
generated from the same declarations, so the document cannot drift from the code."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from chalice import Response
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from chalicelib import logs, settings
from chalicelib.services import context
from chalicelib.services.context import Principal
from chalicelib.domain.errors import DomainError, NotFound, PayloadTooLarge, ValidationFailed

log = logging.getLogger("ecabinet")

CONTENT_TYPES = ["application/json", "application/problem+json", "text/plain", "application/octet-stream",
                 "application/x-www-form-urlencoded", "multipart/form-data", "application/xml", "text/html"]
PROBLEM_TYPE = "urn:ecabinet:problem:"
ROUTES: list["RouteSpec"] = []


# No string in a request is longer than this (fields with their own limit have a tighter one; a PEM bundle is
# the one longer field), and none holds a lone surrogate or a control character other than tab and line breaks.
MAX_STRING = 20000
MAX_LONG_STRING = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, limit: int = MAX_STRING) -> str | None:
    """Why a string of a request is refused, or None."""
    if len(value) > limit:
        return f"quá dài (tối đa {limit} ký tự)"
    if _CONTROL.search(value):
        return "chứa ký tự điều khiển hoặc ký tự Unicode không hợp lệ (surrogate đơn lẻ)"
    return None


def _check_strings(value, limit: int):
    if isinstance(value, str):
        problem_text = text_problem(value, limit)
        if problem_text:
            raise ValueError(problem_text)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k, 200)
            _check_strings(v, limit)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _check_strings(v, limit)
    return value


class Schema(BaseModel):
    """Request bodies: unknown fields are refused, types are strict enough to catch client mistakes, and every
    string (in nested lists and objects too) is bounded and free of control characters and lone surrogates."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _clean_strings(cls, value, info):
        return _check_strings(value, MAX_LONG_STRING if info.field_name == "pem" else MAX_STRING)


@dataclass
class RouteSpec:
    path: str
    method: str
    summary: str
    body: type[BaseModel] | None
    query: dict
    status: int
    public: bool
    tag: str
    local_only: bool


def problem(status: int, code: str, title: str, detail: str, **extra) -> Response:
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail, "code": code}
    body.update(extra)
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/problem+json"})


def _from_error(exc: DomainError) -> Response:
    return problem(exc.status, exc.code, exc.title, exc.detail, **exc.extra)


_FIELD_VI = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép",
    "string_type": "phải là chuỗi",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "bool_type": "phải là true/false",
    "list_type": "phải là danh sách",
    "dict_type": "phải là đối tượng",
    "model_type": "phải là đối tượng",
    "literal_error": "giá trị không được chấp nhận",
    "enum": "giá trị không được chấp nhận",
    "string_too_short": "quá ngắn",
    "string_too_long": "quá dài",
    "too_short": "quá ít phần tử",
    "too_long": "quá nhiều phần tử",
    "greater_than_equal": "quá nhỏ",
    "less_than_equal": "quá lớn",
    "greater_than": "quá nhỏ",
    "less_than": "quá lớn",
    "string_pattern_mismatch": "sai định dạng",
    "datetime_parsing": "phải là thời điểm ISO 8601 có múi giờ",
    "datetime_type": "phải là thời điểm ISO 8601 có múi giờ",
    "timezone_aware": "phải có múi giờ",
    "date_parsing": "phải là ngày YYYY-MM-DD",
    "date_from_datetime_parsing": "phải là ngày YYYY-MM-DD",
    "value_error": "không hợp lệ",
}


def _validation_detail(exc: ValidationError) -> tuple[str, list]:
    errors = []
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        where = ".".join(str(p) for p in e["loc"]) or "(thân yêu cầu)"
        reason = _FIELD_VI.get(e["type"], "không hợp lệ")
        if e["type"] == "value_error" and e.get("msg", "").startswith("Value error, "):
            reason = e["msg"][len("Value error, "):]
        errors.append({"field": where, "reason": reason})
    detail = "Dữ liệu không hợp lệ: " + "; ".join(f"{x['field']}: {x['reason']}" for x in errors[:5])
    return detail, errors


def parse_body(raw: bytes | None, model: type[BaseModel]):
    if not raw:
        raise ValidationFailed("Thiếu thân yêu cầu JSON.")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValidationFailed("Thân yêu cầu không phải JSON hợp lệ (UTF-8).") from None
    if not isinstance(payload, dict):
        raise ValidationFailed("Thân yêu cầu phải là một đối tượng JSON.")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        detail, errors = _validation_detail(exc)
        raise ValidationFailed(detail, errors=errors) from None
    except (ValueError, TypeError, RecursionError):
        raise ValidationFailed("Dữ liệu không hợp lệ.") from None


_PATH_PARAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def _principal(request) -> Principal:
    return context.authenticate(request.headers.get("authorization"))


def _require_on_roster(principal: Principal, body_id: str) -> None:
    from chalicelib.services import bodies

    bodies.place(principal, body_id)


def _etag(payload: str) -> str:
    return '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'


def _json_response(status: int, body: Any, request, method: str) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if method == "GET" and status == 200:
        tag = _etag(text)
        headers["ETag"] = tag
        if tag in [t.strip() for t in (request.headers.get("if-none-match") or "").split(",")]:
            return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=status, headers=headers)


def route(bp, path: str, method: str = "GET", *, body: type[BaseModel] | None = None, query: dict | None = None,
          status: int = 200, public: bool = False, summary: str = "", local_only: bool = False):
    """Register a handler `fn(principal, *path_params, body=..., query=...)`; it returns the response body,
    or `(status, body)`. Everything around it (errors, auth, schema, idempotency) happens here."""
    query = query or {}

    def deco(fn: Callable):
        ROUTES.append(RouteSpec(path, method, summary or (fn.__doc__ or "").strip().split("\n")[0], body, query,
                                status, public, bp.name if hasattr(bp, "name") else "", local_only))

        def view(**params):
            return dispatch(bp, fn, method, body, query, status, public, local_only, params)

        view.__name__ = fn.__name__
        bp.route(path, methods=[method], content_types=CONTENT_TYPES)(view)
        return fn

    return deco


def dispatch(bp, fn, method, body_model, query_spec, status, public, local_only, params) -> Response:
    request = bp.current_request
    token = None
    log_token = logs.bind(request_id=(request.context or {}).get("requestId"), body_id=params.get("body"))
    try:
        s = settings.get()
        if local_only and not s.is_local:
            raise NotFound()
        raw = request.raw_body or b""
        if len(raw) > s.max_request_bytes:
            raise PayloadTooLarge(f"Thân yêu cầu vượt quá {s.max_request_bytes} byte.")
        for value in params.values():
            if not _PATH_PARAM.match(value or ""):
                raise NotFound()
        principal = None if public else _principal(request)
        kwargs = {}
        try:
            if body_model is not None:
                kwargs["body"] = parse_body(raw, body_model)
            if query_spec:
                kwargs["query"] = _parse_query(request.query_params or {}, query_spec)
        except ValidationFailed:
            if principal is not None and "body" in params:
                _require_on_roster(principal, params["body"])  # a stranger learns 404, not what was wrong
            raise
        key = request.headers.get("idempotency-key")
        if method in ("POST", "PATCH") and key and principal:
            if len(key) > 200 or not key.isprintable():
                raise ValidationFailed("Idempotency-Key không hợp lệ (tối đa 200 ký tự in được).")
            fingerprint = hashlib.sha256(f"{method} {request.path} ".encode() + raw).hexdigest()
            token = context.bind_idempotency(principal.user_id, key, fingerprint)
        result = fn(principal, *params.values(), **kwargs) if not public else fn(*params.values(), **kwargs)
        code, payload = result if isinstance(result, tuple) else (status, result)
        return _json_response(code, payload, request, method)
    except context.ReplayedRequest as replay:
        return _replay(replay.stored, request, method)
    except DomainError as exc:
        stored = context.stored_response()
        if stored is not None:
            return _replay(stored, request, method)
        log.info("%s %s answered %s %s: %s", method, request.path, exc.status, exc.code, exc.detail)
        return _from_error(exc)
    except Exception:  # a defect, never bad input: log it whole, show nothing of it
        log.error("unhandled error: %s", traceback.format_exc())
        return problem(500, "internal_error", "Lỗi hệ thống", "Đã xảy ra lỗi hệ thống; yêu cầu chưa được thực hiện.")
    finally:
        logs.unbind(log_token)
        if token is not None:
            context.unbind_idempotency(token)


def _replay(stored: dict, request, method: str) -> Response:
    idem = context.current_idempotency()
    if idem is not None and stored.get("fingerprint") not in (None, idem.fingerprint):
        return problem(409, "conflict", "Xung đột trạng thái",
                       "Idempotency-Key này đã được dùng cho một yêu cầu khác.")
    response = _json_response(stored["status"], stored["body"], request, method)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _parse_query(raw: dict, spec: dict) -> dict:
    unknown = set(raw) - set(spec)
    if unknown:
        raise ValidationFailed("Tham số truy vấn không được hỗ trợ: " + ", ".join(sorted(unknown)))
    out = {}
    for name, (kind, default) in spec.items():
        value = raw.get(name)
        if value is None:
            out[name] = default
            continue
        if kind is int:
            if not (value.isascii() and value.isdigit() and len(value) <= 18):  # "²" is a digit to str.isdigit
                raise ValidationFailed(f"Tham số {name} phải là số nguyên dương.")
            out[name] = int(value)
        elif callable(kind) and kind is not str:
            try:
                out[name] = kind(value)
            except (ValueError, TypeError):
                raise ValidationFailed(f"Tham số {name} không hợp lệ.") from None
        else:
            why = text_problem(value, 2048)
            if why:
                raise ValidationFailed(f"Tham số {name} {why}.")
            out[name] = value
    if "limit" in out and out["limit"] is not None and not 1 <= out["limit"] <= 200:
        raise ValidationFailed("Tham số limit phải từ 1 đến 200.")
    return out


LIST_QUERY = {"limit": (int, 50), "cursor": (str, None)}


def page(items: list, next_cursor: str | None) -> dict:
    return {"items": items, "next_cursor": next_cursor}
