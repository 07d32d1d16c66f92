"""`babelrec check`, and the issue-12 path through the CLI: a catalog row with NaN is refused
with its line, an unreadable stored item fails no unrelated request, `check` names it, and
ingesting a corrected row repairs it."""

from __future__ import annotations

import json
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from typer.testing import CliRunner

from babelrec.cli import app

runner = CliRunner()

ROWS = [
    {"id": "a", "title": "Football final tonight", "language": "en", "category": "sports"},
    {"id": "b", "title": "Nueva ley de tecnología", "language": "es", "metadata": {"pop": 0.5}},
    {"id": "c", "title": "篮球联赛开幕", "language": "zh", "text": None, "tags": None},
]


@pytest.fixture
def args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("BABELREC_CACHE_DIR", str(tmp_path / "cache"))
    return ["--data-dir", str(tmp_path), "--embedder", "hashing"]


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def corrupt(store: Path, item_id: str, item_json: str) -> None:
    client = chromadb.PersistentClient(
        path=str(store), settings=ChromaSettings(anonymized_telemetry=False)
    )
    coll = client.get_collection("babelrec-items")
    meta = coll.get(ids=[item_id], include=["metadatas"])["metadatas"][0]
    coll.update(ids=[item_id], metadatas=[{**meta, "item_json": item_json}])


def test_nan_is_refused_at_ingest_with_file_and_line(tmp_path: Path, args: list[str]) -> None:
    rows = [ROWS[0], {**ROWS[1], "metadata": {"popularity": float("nan")}}, ROWS[2]]
    catalog = write(tmp_path / "c.jsonl", rows)
    result = runner.invoke(app, ["ingest", str(catalog), *args])
    assert result.exit_code == 0, result.output
    assert "added 2, updated 0, unchanged 0, skipped 1" in result.output
    assert f"{catalog}: skipped line 2: NaN is not a JSON number" in result.output
    strict = runner.invoke(app, ["ingest", str(catalog), "--strict", *args])
    assert strict.exit_code == 1 and "line 2" in strict.output
    assert "invalid setting" not in strict.output


def test_unreadable_item_spares_requests_check_names_it_and_reingest_repairs(
    tmp_path: Path, args: list[str]
) -> None:
    catalog = write(tmp_path / "c.jsonl", ROWS)
    assert runner.invoke(app, ["ingest", str(catalog), *args]).exit_code == 0
    assert runner.invoke(app, ["check", *args]).exit_code == 0
    # what babelrec 0.1 stored for {"popularity": NaN}, then a record broken by hand
    corrupt(tmp_path / "chroma", "a", '{"id": "a", "title": "", "metadata": {"popularity": null}}')

    result = runner.invoke(
        app, ["recommend", "--interests", "football and basketball", "--no-llm", *args]
    )
    assert result.exit_code == 0, result.output
    assert "篮球联赛开幕" in result.output
    assert "stored item 'a'" in result.output and "invalid setting" not in result.output

    check = runner.invoke(app, ["check", "--json", *args])
    assert check.exit_code == 1
    report = json.loads(check.stdout)
    assert [(p["kind"], p["item_id"]) for p in report["problems"]] == [("unreadable_item", "a")]
    assert (report["items"], report["readable"], report["count"]) == (3, 2, 3)

    again = runner.invoke(app, ["ingest", str(catalog), *args])
    assert again.exit_code == 0, again.output
    assert "added 1, updated 0, unchanged 2" in again.output
    fixed = runner.invoke(app, ["check", *args])
    assert fixed.exit_code == 0 and "ok" in fixed.output


def test_check_says_when_the_store_is_made_by_another_embedder(
    tmp_path: Path, args: list[str]
) -> None:
    catalog = write(tmp_path / "c.jsonl", ROWS)
    assert runner.invoke(app, ["ingest", str(catalog), *args]).exit_code == 0
    other = runner.invoke(app, ["check", *args, "--embedder-model", "32"])
    assert other.exit_code == 1
    assert "embedder_mismatch" in other.output and "hashing-64" in other.output
    missing = runner.invoke(app, ["check", "--store", str(tmp_path / "none"), *args])
    assert missing.exit_code == 1 and "ingest a catalog first" in missing.output


def test_empty_store_says_the_catalog_is_empty(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["recommend", "--interests", "football", "--no-llm", *args])
    assert result.exit_code == 0, result.output
    assert "the catalog is empty" in result.output
    assert "passes the filters" not in result.output
