"""`babelrec chat` as a person would script it: the issue's "Done when" on the demo store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.io.catalog import demo_catalog_path

HAN = re.compile(r"[\u4e00-\u9fff]")
ITEM = re.compile(r"^\s+\d+\. \[(\w+)")


def babelrec(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> str:
    exe = Path(sys.executable).parent / "babelrec"
    done = subprocess.run(
        [str(exe), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def replies(output: str) -> list[tuple[str, list[str]]]:
    """(reply sentence, item languages) per reply; explanation lines are skipped."""
    found: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        if item := ITEM.match(line):
            found[-1][1].append(item.group(1).split("·")[0])
        elif line and not line.startswith(" ") and not line.startswith("继续会话"):
            found.append((line, []))
    return found


def test_chat_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["chat", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "--session" in result.output
    assert "--store" in result.output and "--chroma-url" in result.output


@pytest.mark.slow
def test_done_when_two_chinese_replies_english_items_and_a_remembered_constraint(
    tmp_path: Path,
) -> None:
    data = str(tmp_path)
    fast = {"BABELREC_LLM": "none"}
    babelrec("ingest", str(demo_catalog_path()), "--data-dir", data, env=fast)

    out = babelrec(
        "chat", "--session", "t1", "--data-dir", data,
        stdin="推荐一些足球新闻\n只要英文的\n/quit\n", env=fast,
    )  # fmt: skip
    got = replies(out)
    assert len(got) == 2, out
    assert all(HAN.search(text) for text, _ in got), out
    assert got[0][1] and got[1][1]
    assert set(got[1][1]) == {"en"}, out

    again = babelrec(
        "chat", "--session", "t1", "--data-dir", data, stdin="再来一些\n/quit\n", env=fast
    )
    assert "只看英文内容" in again.splitlines()[0]  # the resumed session names its constraint
    ((text, languages),) = replies(again)
    assert HAN.search(text) and languages and set(languages) == {"en"}, again


@pytest.mark.slow
def test_json_lines_and_llm_flag(tmp_path: Path) -> None:
    data = str(tmp_path)
    babelrec("ingest", str(demo_catalog_path()), "--data-dir", data, env={"BABELREC_LLM": "none"})
    out = babelrec(
        "chat", "--data-dir", data, "--llm", "none", "--json",
        stdin="recommend something\nsports\n/quit\n",
    )  # fmt: skip
    from babelrec.agent.state import ChatReply

    first, second = (ChatReply.model_validate_json(line) for line in out.splitlines())
    assert first.clarifying_question and not first.recommendations
    assert second.recommendations and second.constraints.categories == ["sports"]
