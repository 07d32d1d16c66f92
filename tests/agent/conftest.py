"""Fixtures for the chat tests: a small fast store, and scripted tool-calling turns for the
shipped `FakeLLM`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from babelrec.llm.toolcalls import ToolCall, ToolCompletion
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings

ITEMS = [
    ("en-foot", "Cup final ends in a penalty shootout", "en", "GB", "sports"),
    ("en-chip", "New chip plant opens in Arizona", "en", "US", "technology"),
    ("zh-foot", "足球联赛决赛吸引五万观众", "zh", "CN", "sports"),
    ("zh-chip", "国产芯片工厂投产", "zh", "CN", "technology"),
    ("ko-chip", "반도체 수출 역대 최대", "ko", "KR", "technology"),
    ("es-food", "Los tacos al pastor conquistan Madrid", "es", "ES", "food"),
]


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    """A six-item catalog embedded by the hashing embedder, under tmp_path."""
    catalog = tmp_path / "catalog.jsonl"
    rows = [
        {"id": i, "title": t, "language": lang, "region": r, "category": c}
        for i, t, lang, r, c in ITEMS
    ]
    catalog.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path, embedder={"name": "hashing", "cache": False}, llm={"backend": "none"}
    )
    Recommender.from_settings(settings).ingest(catalog)
    return settings


def completion(
    content: str | None = None, calls: Sequence[tuple[str, dict[str, Any] | str]] = ()
) -> ToolCompletion:
    """A tool-calling turn as a backend returns it: text and/or tool calls (arguments as JSON
    text; a str is sent as written, to script malformed arguments)."""
    return ToolCompletion(
        text=content or "",
        tool_calls=[
            ToolCall(
                id=f"call-{n}",
                name=name,
                arguments=args if isinstance(args, str) else json.dumps(args),
            )
            for n, (name, args) in enumerate(calls)
        ],
    )


class OpenAIStub:
    """A minimal OpenAI-compatible chat server on 127.0.0.1 (real HTTP, real openai client):
    it answers `/chat/completions` from a script of turns and records every request."""

    def __init__(self, script: Sequence[ToolCompletion]) -> None:
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                turn = stub.script.pop(0) if stub.script else ToolCompletion()
                payload = json.dumps(_chat_completion(turn, body.get("model", ""))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _chat_completion(turn: ToolCompletion, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in turn.tool_calls
        ]
    return {
        "id": "stub",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls" if turn.tool_calls else "stop",
                "message": message,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


@pytest.fixture
def openai_stub() -> Iterator[Callable[[Sequence[ToolCompletion]], OpenAIStub]]:
    """Starts `OpenAIStub`s with a script; stops them after the test."""
    stubs: list[OpenAIStub] = []

    def start(script: Sequence[ToolCompletion]) -> OpenAIStub:
        stubs.append(OpenAIStub(script))
        return stubs[-1]

    yield start
    for stub in stubs:
        stub.close()
