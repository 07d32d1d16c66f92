"""`babelrec recommend --openness`: the profile carries it and the list is calibrated by it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.io.catalog import demo_catalog_path

runner = CliRunner()


def test_openness_reaches_the_profile_and_calibrates_the_list(tmp_path: Path) -> None:
    common = ["--data-dir", str(tmp_path), "--embedder", "hashing"]
    ingest = runner.invoke(app, ["ingest", str(demo_catalog_path()), *common])
    assert ingest.exit_code == 0, ingest.output
    ask = ["recommend", "--interests", "football basketball", "--lang", "zh", "-k", "6"]
    lists = {}
    for openness in ("0", "1"):
        result = runner.invoke(app, [*ask, "--openness", openness, "--json", "--no-llm", *common])
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["user"]["openness"] == float(openness)
        assert payload["ranker"].endswith(f"+calibrated(openness={openness})")
        lists[openness] = [item["item"]["language"] for item in payload["items"]]
    # openness 0 keeps to Chinese as far as relevance allows; 1 spreads over languages
    assert lists["0"].count("zh") > lists["1"].count("zh")
    assert len(set(lists["1"])) > len(set(lists["0"]))
    plain = runner.invoke(app, [*ask, "--json", "--no-llm", *common])
    assert "calibrated" not in json.loads(plain.stdout)["ranker"]  # no history, none asked
    bad = runner.invoke(app, [*ask, "--openness", "1.5", "--no-llm", *common])
    assert bad.exit_code == 2 and "--openness" in bad.output
