"""The ASGI app: the same `Recommender` the CLI and the Python API use, behind HTTP.

Endpoints: `POST /v1/recommend`, `POST /v1/chat/{session_id}` (and `/stream`, server-sent
events), `POST /v1/items`, `GET /v1/items/{id}`, `GET /healthz`, `GET /openapi.json`, and the
chat page at `/`. Errors are problem details; an unreachable LLM gives a degraded 200.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from babelrec.agent.agent import ChatAgent
from babelrec.agent.state import ChatReply
from babelrec.models import Item, RecommendationResult
from babelrec.pipeline.recommender import Recommender
from babelrec.retrieval.ingest import IngestSummary
from babelrec.service import problems
from babelrec.service.problems import ProblemError
from babelrec.service.schemas import ChatRequest, Health, ItemsRequest, RecommendRequest
from babelrec.settings import ServiceSettings

STATIC = Path(str(resources.files("babelrec.service") / "static"))
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]


def create_app(
    recommender: Recommender,
    settings: ServiceSettings | None = None,
    *,
    agent: ChatAgent | None = None,
) -> FastAPI:
    """The service over `recommender`; `settings` default to the recommender's `service` group."""
    settings = settings or recommender.settings.service
    chat = agent or ChatAgent(recommender)
    session_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
    write_lock = threading.Lock()
    app = FastAPI(
        title="babelrec",
        summary="Cross-lingual recommendations that explain themselves.",
        version="0.1.0",
    )
    problems.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    _limit_body_size(app, settings.max_body_bytes)

    def authorised(credentials: Credentials) -> None:
        if settings.api_key is None:
            return
        expected = settings.api_key.get_secret_value().encode()
        given = (credentials.credentials if credentials else "").encode()
        if not hmac.compare_digest(given, expected):  # constant time; the key is never logged
            raise ProblemError(401, "Unauthorized", "a valid bearer token is required")

    api = [Depends(authorised)]

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> Health:
        return Health(items=recommender.store.count(), llm=recommender.settings.llm.backend)

    @app.post("/v1/recommend", response_model=RecommendationResult, dependencies=api)
    def recommend(body: RecommendRequest) -> RecommendationResult:
        """The top k items for a user profile or a free-text request, explained."""
        subject = body.user if body.user is not None else body.text
        assert subject is not None  # the request model requires one
        return recommender.recommend(
            subject,
            body.k,
            filters=None if body.filters is None or body.filters.is_empty() else body.filters,
            explain=body.explain,
            language=body.language,
            use_llm=body.use_llm,
        )

    def respond(session_id: str, message: str) -> ChatReply:
        with session_locks[session_id]:  # one turn of a session at a time
            return chat.respond(session_id, message)

    @app.post("/v1/chat/{session_id}", response_model=ChatReply, dependencies=api)
    def chat_turn(session_id: str, body: ChatRequest) -> ChatReply:
        """One message of a conversation; the session persists between requests."""
        return respond(session_id, body.message)

    @app.post("/v1/chat/{session_id}/stream", dependencies=api)
    async def chat_stream(session_id: str, body: ChatRequest) -> StreamingResponse:
        """The same turn as server-sent events: `delta` events carry the reply text piece by
        piece, then `reply` carries the whole `ChatReply` (picks included)."""
        reply = await run_in_threadpool(respond, session_id, body.message)

        async def events() -> AsyncIterator[str]:
            for piece in _pieces(reply.text):
                yield _event("delta", {"text": piece})
            yield _event("reply", json.loads(reply.model_dump_json()))

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/v1/items", response_model=IngestSummary, dependencies=api)
    def add_items(body: ItemsRequest) -> IngestSummary:
        """Add or update items; the whole batch is validated before anything is written."""
        ids = [item.id for item in body.items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ProblemError(422, "Invalid request", f"duplicate item ids: {duplicates[:5]}")
        with write_lock:
            return recommender.ingest_items(body.items)

    @app.get("/v1/items/{item_id}", response_model=Item, dependencies=api)
    def get_item(item_id: str) -> Item:
        found = recommender.get_items([item_id])
        if item_id not in found:
            raise ProblemError(404, "Not found", f"no item with id {item_id!r}")
        return found[item_id].item

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise ProblemError(404, "Not found", f"no file {name!r}")
        return FileResponse(path)

    return app


def _pieces(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _limit_body_size(app: FastAPI, limit: int) -> None:
    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        declared = request.headers.get("content-length")
        too_big = declared is not None and declared.isdigit() and int(declared) > limit
        if not too_big and request.method in ("POST", "PUT", "PATCH"):
            too_big = len(await request.body()) > limit
        if too_big:
            return problems.problem_response(
                request, 413, "Request too large", f"the request body is over {limit} bytes"
            )
        return await call_next(request)
