"""The harness end to end on the real shared data (a small run), and its pieces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.errors import ConfigError
from babelrec.eval.experiment import EXPERIMENTS_DIR, Experiment, load_experiment
from babelrec.eval.rankers import build_ranker
from babelrec.eval.runner import run_experiment, split_cases

SMALL = {
    "name": "mind-zh-small",
    "dataset": "mind-zh",
    "protocol": {"kind": "impressions"},
    "embedder": "hashing",
    "rankers": [
        {"name": "random"},
        {"name": "popularity"},
        {"name": "cosine"},
        {"name": "bilinear", "label": "bilinear-learned", "options": {"epochs": 2}},
    ],
    "baseline": "cosine",
    "test_fraction": 0.5,
}


@pytest.mark.data
@pytest.mark.slow
def test_small_run_on_real_data_writes_the_three_outputs(
    eval_data_dir: Path, tmp_path: Path
) -> None:
    experiment = Experiment.model_validate(SMALL)
    out = tmp_path / "out"
    summary = run_experiment(
        experiment, out_dir=out, limit=300, data_dir=eval_data_dir, cache_dir=tmp_path / "cache",
        progress=False,
    )  # fmt: skip
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# mind-zh-small")
    assert {p.name for p in out.glob("*.png")} == {"auc.png", "ndcg_at_10.png", "by_language.png"}
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [r["ranker"] for r in report["results"]] == [
        "random", "popularity", "cosine", "bilinear-learned",
    ]  # fmt: skip
    for row in report["results"]:
        assert {"auc", "mrr", "ndcg@10", "recall@10", "hit@10"} <= set(row["metrics"])
    by_name = {r["ranker"]: r["metrics"] for r in report["results"]}
    assert 0.45 <= by_name["random"]["auc"] <= 0.55
    assert report["protocol"]["test_cases"] == 300
    assert report["dataset"]["content_hash"]
    assert "numpy" in report["versions"]
    assert set(report["comparisons"]["against"]) == {"random", "popularity", "bilinear-learned"}
    ci = report["comparisons"]["against"]["random"]["auc"]
    assert ci["ci_low"] <= ci["mean_difference"] <= ci["ci_high"]
    assert "zh" in report["details"]["cosine"]["by_user_language"]

    # a rerun resumes from the saved scores instead of scoring again
    scores = out / "scores" / "cosine.json"
    stamp = scores.stat().st_mtime_ns
    again = run_experiment(
        experiment, out_dir=out, limit=300, data_dir=eval_data_dir, cache_dir=tmp_path / "cache",
        progress=False,
    )  # fmt: skip
    assert scores.stat().st_mtime_ns == stamp
    assert again["results"][2]["metrics"] == summary["results"][2]["metrics"]


def test_bundled_experiments_are_valid() -> None:
    names = {p.stem for p in EXPERIMENTS_DIR.glob("*.yaml")}
    films = {f"{d}{v}" for d in ("kmrd", "ml100k") for v in ("", "_full", "_new_items")}
    assert names == {"mind_zh", "mind_mixed", "mind_zh_llm", *films}
    for name in names:
        experiment = load_experiment(EXPERIMENTS_DIR / f"{name}.yaml")
        assert experiment.baseline in {r.display for r in experiment.rankers}
        for ranker in experiment.rankers:
            if ranker.name != "llm":
                build_ranker(ranker.name, dict(ranker.options))


def test_bad_experiment_files_fail_with_the_field(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("name: x\ndataset: mind-zh\nprotocol: {kind: sideways}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="protocol.kind"):
        load_experiment(path)
    bad_baseline = dict(SMALL, baseline="nope")
    with pytest.raises(ValueError, match="baseline"):
        Experiment.model_validate(bad_baseline)
    with pytest.raises(ConfigError, match="does not exist"):
        load_experiment(tmp_path / "missing.yaml")


def test_split_is_by_user_and_deterministic() -> None:
    from babelrec.eval.protocols import EvalCase

    cases = [
        EvalCase(case_id=str(n), user_id=f"u{n % 7}", history=["a"], candidates=["b", "c"],
                 positives={"b"})
        for n in range(70)
    ]  # fmt: skip
    train, test = split_cases(cases, 0.5, seed=1)
    assert {c.user_id for c in train}.isdisjoint({c.user_id for c in test})
    assert split_cases(cases, 0.5, seed=1) == (train, test)


def test_cli_eval_reports_missing_data_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", "mind_zh.yaml", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "evaluation data not found" in result.output
