"""Fixtures for the chat tests: a small fast store, and a scripted OpenAI-compatible client."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletion

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


def completion(content: str | None = None, calls: Sequence[tuple[str, dict[str, Any]]] = ()) -> Any:
    """A chat completion as the openai client returns it: text and/or tool calls."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [
            {
                "id": f"call-{n}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for n, (name, args) in enumerate(calls)
        ]
    return ChatCompletion.model_validate(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "scripted",
            "choices": [
                {"index": 0, "finish_reason": "tool_calls" if calls else "stop", "message": message}
            ],
        }
    )


class ScriptedClient:
    """Stands in for `openai.OpenAI`: answers from a script and records every request."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.chat = self
        self.completions = self

    def create(self, **request: Any) -> Any:
        self.requests.append(request)
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
