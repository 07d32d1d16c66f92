"""An API key given through settings or the environment never shows: not in reprs, errors,
logs, `--debug` tracebacks, degraded reasons, session files or eval reports, even when the
endpoint echoes it back in its error body (issue 12, hostile input)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.traceback import Traceback

from babelrec.errors import LLMError
from babelrec.io.catalog import demo_catalog_path
from babelrec.llm import ChatMessage
from babelrec.llm.hosted import OpenAICompatibleLLM
from babelrec.llm.registry import build_llm
from babelrec.models import UserProfile
from babelrec.pipeline.recommender import Recommender
from babelrec.rerank import build_reranker
from babelrec.settings import Settings
from tests.conftest import ROOT, free_port
from tests.llm.chat_server import chat_server
from tests.rerank.conftest import make_candidates

ENV_KEY = "sk-canary-env-5f1d2c9a7b"
SETTINGS_KEY = "sk-canary-settings-83e6a0d4"
CANARIES = (ENV_KEY, SETTINGS_KEY)


def echoing(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A careless endpoint: every answer is an error that quotes the Authorization header."""
    auth = body["_authorization"]
    status = 401 if "settings" in auth else 500
    return status, {"error": {"message": f"cannot serve {auth}", "type": "invalid_request"}}


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with chat_server(echoing) as served:
        yield served


def assert_clean(where: str, text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"the API key shows in {where}"


def rendered(exc: BaseException) -> str:
    """The exception as `--debug` shows it: a rich traceback with locals, causes included."""
    out = io.StringIO()
    tb = exc.__traceback__
    while tb is not None and "/tests/" in tb.tb_frame.f_code.co_filename:
        tb = tb.tb_next  # this test's own frames hold the canaries it plants
    trace = Traceback.from_exception(type(exc), exc, tb, show_locals=True)
    Console(file=out, width=200).print(trace)
    return out.getvalue() + "".join(traceback.format_exception(type(exc), exc, tb))


def test_keys_never_show_in_reprs_errors_logs_or_tracebacks(
    endpoint: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    url, requests = endpoint
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    from_env = Settings(data_dir=tmp_path, llm={"backend": "openai", "url": url, "retries": 0})
    from_settings = from_env.with_overrides(llm={"api_key": SETTINGS_KEY})
    unreachable = from_env.with_overrides(llm={"url": f"http://127.0.0.1:{free_port()}/v1"})
    for settings in (from_env, from_settings, unreachable):
        assert_clean("settings", repr(settings) + str(settings) + settings.model_dump_json())
        llm = build_llm(settings.llm, tmp_path)
        assert isinstance(llm, OpenAICompatibleLLM)
        assert_clean("the LLM's repr", repr(llm) + str(llm))
        for call in (
            lambda llm=llm: llm.next_token_logprobs(
                [ChatMessage(role="user", content="hi")], ["A", "B"]
            ),
            lambda llm=llm: llm.complete_structured(
                [ChatMessage(role="user", content="hi")], UserProfile
            ),
        ):
            with pytest.raises(LLMError) as caught:
                call()
            assert_clean("an error", str(caught.value) + repr(caught.value))
            assert_clean("a --debug traceback", rendered(caught.value))
        result = build_reranker("listwise", llm).rerank(UserProfile(), make_candidates(3))
        assert result.degraded
        assert_clean("a degraded reason", result.model_dump_json())
    # the endpoint really did receive (and echo) both keys
    sent = [r["_authorization"] for r in requests]
    assert f"Bearer {ENV_KEY}" in sent and f"Bearer {SETTINGS_KEY}" in sent
    assert_clean("the logs", caplog.text + "".join(str(r.__dict__) for r in caplog.records))


def test_keys_never_show_in_cli_output_debug_logs_or_tracebacks(
    endpoint: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, _ = endpoint
    data = tmp_path / "data"
    Recommender.from_settings(
        Settings(
            data_dir=data, embedder={"name": "hashing", "cache": False}, llm={"backend": "none"}
        )
    ).ingest(demo_catalog_path())
    env = {"OPENAI_API_KEY": ENV_KEY, "BABELREC_LLM__API_KEY": SETTINGS_KEY, "PATH": "/usr/bin"}
    cli = [sys.executable, "-c", "from babelrec.cli import app; app()"]
    common = ["--data-dir", str(data), "--embedder", "hashing", "--debug"]
    runs = [
        [
            "recommend",
            "--interests",
            "football",
            "--llm",
            "openai",
            "--llm-url",
            url,
            "--reranker",
            "listwise",
            "--json",
            *common,
        ],  # fmt: skip
        # an error with a traceback under --debug: a contradictory setting from the environment
        ["recommend", "--interests", "football", "--llm", "openai", *common],
    ]
    outputs = []
    for args in runs:
        done = subprocess.run(
            cli + args, cwd=ROOT, env={**env, "BABELREC_RERANK__STEP": "50"}
            if args is runs[1] else env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        outputs.append(done)
        assert_clean(f"`babelrec {args[0]}` output", done.stdout + done.stderr)
    first = json.loads(outputs[0].stdout)
    assert "degraded" in json.dumps(first)
    assert outputs[1].returncode != 0 and "Traceback" in outputs[1].stderr
    for path in data.rglob("*"):
        if path.is_file():
            assert_clean(str(path), path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.xfail(
    strict=True,
    reason="babelrec/agent/tools.py logs the raw openai error of a failed tool-calling turn, "
    "which quotes an endpoint's error body (and so an echoed key); outside this branch's files",
)
def test_keys_never_show_in_chat_session_files_or_chat_logs(
    endpoint: tuple[str, list[dict[str, Any]]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from babelrec.agent.agent import ChatAgent
    from babelrec.agent.sessions import SessionStore

    url, requests = endpoint
    data = tmp_path / "data"
    settings = Settings(
        data_dir=data,
        embedder={"name": "hashing", "cache": False},
        llm={"backend": "openai", "url": url, "api_key": SETTINGS_KEY},
        chat={"agent": "tools"},
    )
    recommender = Recommender.from_settings(settings)
    recommender.ingest(demo_catalog_path())
    agent = ChatAgent(recommender, SessionStore.in_dir(data))
    caplog.set_level(logging.DEBUG)
    reply = agent.respond("s1", "recommend some football news")
    assert requests  # the tool-calling turn reached the endpoint (and failed)
    assert_clean("a chat reply", reply.model_dump_json())
    for path in data.rglob("*"):
        if path.is_file():  # the sessions SQLite file among them
            assert_clean(str(path), path.read_bytes().decode("utf-8", "replace"))
    assert_clean("the chat's logs", caplog.text)
