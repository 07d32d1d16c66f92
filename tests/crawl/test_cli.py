"""The `babelrec crawl` command against the test site."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from babelrec.cli import app
from tests.crawl.site import Site

runner = CliRunner()


def test_crawl_help_has_an_example() -> None:
    result = runner.invoke(app, ["crawl", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "--max-items" in result.output


def test_crawl_reports_items_and_skips_and_a_rerun_changes_nothing(
    site: Site, tmp_path: Path
) -> None:
    args = [
        "crawl",
        f"{site.base}/feeds/zh.xml",
        f"{site.base}/articles/missing.html",
        "--delay",
        "0",
        "--data-dir",
        str(tmp_path),
        "--embedder",
        "hashing",
        "--since",
        "2020-01-01",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "added 1" in result.stdout
    assert "missing.html (http-error) HTTP 404" in result.stderr
    again = runner.invoke(app, [*args, "--json"])
    report = json.loads(again.stdout)
    assert report["ingest"]["added"] == 0 and report["not_modified"] == 1
    assert [s["reason"] for s in report["skipped"]] == ["http-error"]


def test_a_bad_option_is_one_line() -> None:
    result = runner.invoke(app, ["crawl", "http://127.0.0.1:9/x", "--since", "yesterday"])
    assert result.exit_code == 1
    assert "since" in result.stderr and "Traceback" not in result.output
