"""`babelrec translate` over a store, then `babelrec recommend` shows what it made (table and
JSON), with a scripted LLM registered as a backend the way a plugin registers one."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.cli import common as cli_common
from babelrec.llm.base import ChatMessage, JSONSchema
from babelrec.llm.fake import FakeLLM
from babelrec.registry import LLMS
from tests.conftest import write_catalog

runner = CliRunner()
TRANSLATIONS = {
    "Cup final ends in a penalty shootout": "杯赛决赛以点球大战结束",
    "New chip plant opens in Arizona": "亚利桑那州新芯片厂开业",
    "반도체 수출 역대 최대": "半导体出口创历史新高",
    "Los tacos al pastor conquistan Madrid": "Los tacos al pastor conquistan Madrid",  # a copy
}
CALLS: list[str] = []


def respond(messages: Sequence[ChatMessage], schema: JSONSchema) -> str:
    text = messages[-1].content.split("<data>", 1)[1].split("</data>", 1)[0]
    CALLS.append(text)
    return json.dumps({"translation": TRANSLATIONS.get(text, text)}, ensure_ascii=False)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    LLMS.register("scripted", lambda settings, cache_dir: FakeLLM(responder=respond))
    monkeypatch.setenv("BABELREC_CACHE_DIR", str(tmp_path / "cache"))
    CALLS.clear()
    yield ["--data-dir", str(tmp_path), "--embedder", "hashing"]
    LLMS.unregister("scripted")


def test_translate_the_store_then_recommend_shows_it(
    scripted: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = scripted
    ingest = runner.invoke(app, ["ingest", str(write_catalog(tmp_path / "c.jsonl")), *common])
    assert ingest.exit_code == 0, ingest.output
    first = runner.invoke(app, ["translate", "--to", "zh", "--llm", "scripted", *common])
    assert first.exit_code == 0, first.output
    assert "6 items into zh: translated 3, already cached 0, refused by the check 1" in first.output
    assert "skipped 2" in first.output
    calls = len(CALLS)
    # resumable: a second run asks the model nothing
    again = runner.invoke(app, ["translate", "--to", "zh", "--llm", "scripted", *common])
    assert again.exit_code == 0 and "already cached 4" in again.output and len(CALLS) == calls

    args = ["recommend", "--interests", "足球 芯片 美食", "--lang", "zh", "-k", "6", "--no-llm"]
    result = runner.invoke(app, [*args, "--json", "--llm", "scripted", *common])
    assert result.exit_code == 0, result.output
    shown = {r["item"]["id"]: r["display"] for r in json.loads(result.stdout)["items"]}
    assert shown["ko-chip"]["title"] == "半导体出口创历史新高"
    assert shown["ko-chip"]["source"] == "machine" and shown["ko-chip"]["model"] == "fake:fake"
    assert shown["es-food"]["source"] == "original" and shown["es-food"]["fallback"]
    assert shown["zh-foot"]["source"] == "original" and shown["zh-foot"]["in_user_language"]
    assert len(CALLS) == calls  # the default "cached": nothing made at request time

    monkeypatch.setattr(cli_common.console, "width", 240)  # no wrapping inside the table's cells
    table = runner.invoke(app, [*args, "--llm", "scripted", *common])
    assert table.exit_code == 0, table.output
    assert "半导体出口创历史新高" in table.output and "machine (fake:fake)" in table.output
    assert "original!" in table.output  # the refused translation, flagged


def test_translate_needs_an_llm(tmp_path: Path) -> None:
    result = runner.invoke(app, ["translate", "--llm", "none", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "needs an LLM backend" in result.output
