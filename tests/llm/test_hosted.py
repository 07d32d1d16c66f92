"""The openai backend's wire behaviour, with the HTTP client replaced by a recorder."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel, ConfigDict

from babelrec.errors import LLMUnavailableError
from babelrec.llm import ChatMessage
from babelrec.llm.hosted import OpenAICompatibleLLM

MESSAGES = [ChatMessage(role="user", content="hi")]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool


def _response(content: str) -> Any:
    usage = SimpleNamespace(prompt_tokens=3, completion_tokens=2)
    return SimpleNamespace(
        choices=[SimpleNamespace(message=SimpleNamespace(content=content), logprobs=None)],
        usage=usage,
    )


class Recorder:
    """Stands in for `openai.OpenAI().chat.completions`; fails forms listed in `reject`."""

    def __init__(self, reject: set[str]) -> None:
        self.sent: list[dict[str, Any]] = []
        self.reject = reject
        self.chat = SimpleNamespace(completions=self)

    def create(self, **kwargs: Any) -> Any:
        self.sent.append(kwargs)
        form = kwargs["response_format"]["type"]
        if form in self.reject:
            response = httpx.Response(500, request=httpx.Request("POST", "http://x"))
            raise openai.InternalServerError("boom", response=response, body=None)
        return _response('{"ok": true}')


def _llm(url: str, recorder: Recorder, mode: str = "auto") -> OpenAICompatibleLLM:
    llm = OpenAICompatibleLLM(url, "m", schema_mode=mode)  # type: ignore[arg-type]
    llm.__dict__["client"] = recorder
    return llm


def test_llama_cpp_servers_get_json_object_with_the_schema() -> None:
    rec = Recorder(reject={"json_schema"})
    assert _llm("http://127.0.0.1:8000/v1", rec).complete_structured(MESSAGES, Answer).ok
    form = rec.sent[0]["response_format"]
    assert form["type"] == "json_object" and form["schema"]["required"] == ["ok"]


def test_openai_gets_json_schema() -> None:
    rec = Recorder(reject={"json_object"})
    assert _llm("https://api.openai.com/v1", rec).complete_structured(MESSAGES, Answer).ok
    form = rec.sent[0]["response_format"]
    assert form["type"] == "json_schema" and form["json_schema"]["schema"]["required"] == ["ok"]


def test_a_rejected_form_switches_once_and_is_remembered() -> None:
    rec = Recorder(reject={"json_schema"})
    llm = _llm("http://vllm.local/v1", rec, mode="json_schema")
    assert llm.complete_structured(MESSAGES, Answer).ok
    assert [s["response_format"]["type"] for s in rec.sent] == ["json_schema", "json_object"]
    llm.complete_structured([ChatMessage(role="user", content="again")], Answer)
    assert rec.sent[-1]["response_format"]["type"] == "json_object"


def test_no_server_is_llm_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{port}/v1", "m", timeout=5)
    with pytest.raises(LLMUnavailableError, match="cannot reach"):
        llm.complete_structured(MESSAGES, Answer)
