from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babelrec.cli import app

runner = CliRunner()


def babelrec(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "babelrec"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


def test_every_command_has_help_with_an_example() -> None:
    for command in ("ingest", "recommend", "demo"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output
        assert "--store" in result.output and "--chroma-url" in result.output


def test_ingest_summary_and_bad_rows(tmp_path: Path) -> None:
    catalog = tmp_path / "c.jsonl"
    catalog.write_text(
        '{"id": "a", "title": "Football tonight", "language": "en"}\n{"id": "b"}\n',
        encoding="utf-8",
    )
    args = ["ingest", str(catalog), "--data-dir", str(tmp_path), "--embedder", "hashing"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "added 1, updated 0, unchanged 0, skipped 1" in result.output
    assert "line 2" in result.output
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 1
    assert "nothing was written" in strict.output


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = babelrec("recommend", "--data-dir", str(tmp_path), "--embedder", "nope")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: unknown embedder 'nope'")
    assert "Traceback" not in result.stderr
    debug = babelrec("recommend", "--data-dir", str(tmp_path), "--embedder", "nope", "--debug")
    assert "Traceback" in debug.stderr


@pytest.mark.slow
def test_recommend_json_and_user_file_on_the_demo_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    demo = runner.invoke(
        app, ["demo", "--store", str(store), "--data-dir", str(tmp_path), "-k", "3"]
    )
    assert demo.exit_code == 0, demo.output
    assert "189 items" in demo.output
    result = runner.invoke(
        app,
        ["recommend", "--interests", "我喜欢足球和篮球", "--lang", "zh", "-k", "5", "--json",
         "--no-llm", "--store", str(store), "--data-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["items"]) == 5
    assert payload["user"]["language"] == "zh"
    assert all("bilinear" in item["scores"] for item in payload["items"])

    user_file = tmp_path / "user.json"
    user_file.write_text(
        json.dumps({"language": "es", "interests": "tecnología", "history": ["es-sports-001"]}),
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["recommend", "--user-file", str(user_file), "--json", "--no-llm", "--item-lang", "ko",
         "--store", str(store), "--data-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["items"]
    assert items and all(item["item"]["language"] == "ko" for item in items)


def test_invalid_setting_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["recommend", "--interests", "x", "--data-dir", str(tmp_path)],
        env={"BABELREC_STORE__COLLECTION": "x!"},
    )
    assert result.exit_code == 1
    assert "error: invalid setting: store.collection:" in result.output
    bad = runner.invoke(app, ["train", str(tmp_path / "none.csv"), "--mode", "diagonal"])
    assert bad.exit_code == 1
    assert "--mode must be shared or per_item" in bad.output


def test_train_saves_weights_that_recommend_then_uses(tmp_path: Path) -> None:
    catalog = tmp_path / "c.jsonl"
    catalog.write_text(
        "\n".join(
            json.dumps({"id": f"i{n}", "title": f"story {n} about topic {n % 3}", "language": "en"})
            for n in range(12)
        ),
        encoding="utf-8",
    )
    common = ["--data-dir", str(tmp_path), "--embedder", "hashing"]
    assert runner.invoke(app, ["ingest", str(catalog), *common]).exit_code == 0
    log = tmp_path / "log.csv"
    log.write_text(
        "user_id,item_id,timestamp\n"
        + "".join(f"u{u},i{(u + t) % 12},{t}\n" for u in range(6) for t in range(4))
        + "u0,unknown-item,9\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["train", str(log), "--epochs", "2", "--bilinear-only", *common])
    assert result.exit_code == 0, result.output
    assert "trained shared weights on 18 examples (1 unknown item ids ignored)" in result.output
    rec = runner.invoke(app, ["recommend", "--interests", "topic 1", "--json", "--no-llm", *common])
    assert json.loads(rec.stdout)["ranker"] == "bilinear"
