"""Errors as RFC 9457 problem details (`application/problem+json`), with the same one-line
messages as the CLI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from babelrec.errors import (
    BabelrecError,
    CatalogError,
    ConfigError,
    EmptyProfileError,
    StoreError,
    UnknownUserError,
)

PROBLEM_TYPE = "https://babelrec.invalid/problems/"


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str = Field(description="What went wrong, in one line (as the CLI says it).")
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Per-field problems of an invalid request."
    )


class ProblemError(Exception):
    """Raised inside an endpoint to answer with a problem."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def problem_response(
    request: Request, status: int, title: str, detail: str, **extra: Any
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_TYPE + title.lower().replace(" ", "-"),
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        **extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type="application/problem+json",
    )


_STATUS: list[tuple[type[BabelrecError], int, str]] = [
    (UnknownUserError, 404, "Not found"),
    (EmptyProfileError, 422, "Nothing to rank"),
    (CatalogError, 422, "Invalid catalog row"),
    (ConfigError, 400, "Invalid setting"),
    (StoreError, 503, "Store unavailable"),
]


def _babelrec_error(request: Request, exc: Exception) -> JSONResponse:
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            return problem_response(request, status, title, str(exc))
    return problem_response(request, 500, "Babelrec error", str(exc))


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    return problem_response(request, 422, "Invalid request", detail, errors=errors)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(request, exc.status_code, str(exc.detail), str(exc.detail))


def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc.status, exc.title, exc.detail)


def install(app: FastAPI) -> None:
    """Answer every error with problem details."""
    app.add_exception_handler(BabelrecError, _babelrec_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ProblemError, _problem_error)
