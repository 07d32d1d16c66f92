"""`babelrec train` learns the hybrid first stage, reports it, and `recommend` then uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from babelrec.cli import app
from tests.pipeline.test_hybrid import catalog_rows, reading_log

runner = CliRunner()


def test_train_reports_the_held_out_metric_and_time_then_recommend_uses_it(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "c.jsonl"
    catalog.write_text("\n".join(json.dumps(r) for r in catalog_rows()), encoding="utf-8")
    common = ["--data-dir", str(tmp_path), "--embedder", "hashing"]
    assert runner.invoke(app, ["ingest", str(catalog), *common]).exit_code == 0
    log = tmp_path / "log.csv"
    rows = [
        f"{user},{item},{t}"
        for user, items in reading_log().items()
        for t, item in enumerate(items)
    ]
    log.write_text("user_id,item_id,timestamp\n" + "\n".join([*rows, "u0,gone,99"]), "utf-8")

    result = runner.invoke(app, ["train", str(log), *common])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps lines
    held_out = re.search(r"HitRate@10 ([0-9.]+), nDCG@10 ([0-9.]+) \(popularity ([0-9.]+)", output)
    assert held_out, output
    assert float(held_out[1]) > float(held_out[3])
    sampled = re.search(r"against (\d+) sampled items", output)
    assert sampled and 20 <= int(sampled[1]) < 30  # the catalog holds 30 stories
    assert re.search(
        r"trained the hybrid on 641 interactions in [0-9.]+s \([0-9.]+s CPU\) \(1 unknown", output
    )
    assert len(list(tmp_path.rglob("hybrid.json"))) == 1

    history = ["--history", "ko-football-0", "--history", "ko-football-1"]
    rec = runner.invoke(app, ["recommend", *history, "--json", "--no-llm", "-k", "5", *common])
    assert rec.exit_code == 0, rec.output
    result_json = json.loads(rec.stdout)
    assert result_json["ranker"] == "hybrid"
    assert any(r["item"]["id"].startswith("en-football") for r in result_json["items"])
