"""RFC 9457 problem responses (``application/problem+json``), built on ``fastapi-problem``.

Every error a service answers is one of these: ``type``, ``title``, ``status``, ``detail`` and, for
validation, ``errors``: a list of ``{"field", "message", "code"}`` naming each bad field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi_problem.error import (
    ConflictProblem,
    ForbiddenProblem,
    NotFoundProblem,
    Problem,
    StatusProblem,
    UnauthorisedProblem,
    UnprocessableProblem,
)
from fastapi_problem.handler import new_exception_handler
from pydantic import BaseModel
from starlette.exceptions import HTTPException

__all__ = [
    "BadGateway",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InternalError",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "Problem",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "ValidationFailed",
    "install_problem_handlers",
]


class FieldError(BaseModel):
    field: str
    message: str
    code: str = "invalid"


class ValidationFailed(UnprocessableProblem):
    title = "Validation failed"
    type_ = "validation-failed"

    def __init__(
        self,
        errors: Iterable[FieldError | dict[str, Any]],
        detail: str | None = None,
        **extras: Any,
    ) -> None:
        items = [e.model_dump() if isinstance(e, FieldError) else dict(e) for e in errors]
        if detail is None:
            fields = ", ".join(str(e["field"]) for e in items[:5])
            more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
            detail = f"{len(items)} invalid field(s): {fields}{more}" if items else "invalid request"
        super().__init__(detail, errors=items, **extras)

    @classmethod
    def one(cls, field: str, message: str, code: str = "invalid", **extras: Any) -> ValidationFailed:
        return cls([FieldError(field=field, message=message, code=code)], detail=message, **extras)


class NotFound(NotFoundProblem):
    title = "Not found"
    type_ = "not-found"


class Conflict(ConflictProblem):
    title = "Conflict"
    type_ = "conflict"


class PreconditionFailed(StatusProblem):
    status = 412
    title = "Precondition failed"
    type_ = "precondition-failed"


class PreconditionRequired(StatusProblem):
    status = 428
    title = "Precondition required"
    type_ = "precondition-required"


class Unauthorized(UnauthorisedProblem):
    title = "Unauthorized"
    type_ = "unauthorized"
    headers_: MutableMapping[str, str] | None = {"WWW-Authenticate": 'Bearer realm="jalon"'}  # noqa: RUF012


class Forbidden(ForbiddenProblem):
    title = "Forbidden"
    type_ = "forbidden"


class TooManyRequests(StatusProblem):
    status = 429
    title = "Too many requests"
    type_ = "rate-limited"


class BadGateway(StatusProblem):
    status = 502
    title = "Bad gateway"
    type_ = "upstream-unavailable"


class ServiceUnavailable(StatusProblem):
    status = 503
    title = "Service unavailable"
    type_ = "service-unavailable"


class InternalError(StatusProblem):
    """What an unexpected exception becomes: the details go to the log, not to the client."""

    status = 500
    title = "Internal server error"
    type_ = "internal-error"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__("An unexpected error occurred; it has been logged.", **kwargs)


def _field_path(loc: Iterable[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, rest = parts[0], parts[1:]
    else:
        where, rest = "body", parts
    text = ""
    for p in rest:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text if where == "body" else f"{where}.{text}" if text else where


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        out.append(
            FieldError(
                field=_field_path(err.get("loc", ())) or "body",
                message=str(err.get("msg", "invalid")),
                code=str(err.get("type", "invalid")),
            )
        )
    return out


def _request_validation_handler(_eh: Any, _request: Request, exc: RequestValidationError) -> Problem:
    return ValidationFailed(validation_errors(exc))


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status"],
}


def _problem_openapi(app: FastAPI) -> None:
    """Describe error answers as problem documents in the app's OpenAPI (422 and 4XX/5XX)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for item in schema.get("paths", {}).values():
            for op in item.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                responses = op["responses"]
                if "422" in responses:
                    responses["422"]["content"] = problem
                responses.setdefault("4XX", {"description": "Client error", "content": problem})
                responses.setdefault("5XX", {"description": "Server error", "content": problem})
        for unused in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI, logger: logging.Logger | None = None) -> None:
    handler = new_exception_handler(
        logger=logger or logging.getLogger("jalon.problems"),
        unhandled_wrappers={"default": InternalError},
        request_validation_handler=_request_validation_handler,
    )
    # The handlers only; our own OpenAPI description of problems (the library's assumes every
    # declared 422 has a JSON content and fails on routes that declare their own).
    for exc_type in (Exception, Problem, HTTPException, RequestValidationError):
        app.add_exception_handler(exc_type, handler)
    _problem_openapi(app)
