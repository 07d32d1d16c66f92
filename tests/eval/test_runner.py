"""The harness end to end on the real shared data (a small run), and its pieces."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.errors import ConfigError
from babelrec.eval import runner
from babelrec.eval.experiment import EXPERIMENTS_DIR, Experiment, load_experiment
from babelrec.eval.prepare import dataset_dir
from babelrec.eval.rankers import build_ranker
from babelrec.eval.runner import run_experiment, sample_cases, split_cases

from .conftest import Converted

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
    eval_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    own = report["baseline_intervals"]["auc"]  # the baseline's own interval, for a goal on it
    assert own["mean"] == pytest.approx(ci["mean_a"])
    assert own["ci_low"] < own["mean"] < own["ci_high"]
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

    # other babelrec code (a changed ranker) scores again instead of reusing old scores
    monkeypatch.setattr(runner, "code_fingerprint", lambda: "other-code")
    run_experiment(
        experiment, out_dir=out, limit=300, data_dir=eval_data_dir, cache_dir=tmp_path / "cache",
        progress=False,
    )  # fmt: skip
    assert scores.stat().st_mtime_ns != stamp


def test_bundled_experiments_are_valid() -> None:
    names = {p.stem for p in EXPERIMENTS_DIR.glob("*.yaml")}
    films = {f"{d}{v}" for d in ("kmrd", "ml100k") for v in ("", "_full", "_new_items")}
    assert names == {
        "mind_zh", "mind_mixed", "mind_paired", "mind_paired_e5", "mind_paired_llm",
        "mind_zh_space", "mind_zh_llm", "kmrd_full_sample", "mind_zh_llm_prompt", *films,
        "calibration_mind_mixed", "calibration_kmrd", "calibration_ml100k",
    }  # fmt: skip
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


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 40), n=st.one_of(st.none(), st.integers(1, 50)), seed=st.integers(0, 3))
def test_a_test_sample_keeps_order_size_and_is_seeded(size: int, n: int | None, seed: int) -> None:
    from babelrec.eval.protocols import EvalCase

    cases = [
        EvalCase(case_id=str(k), user_id=f"u{k}", history=[], candidates=["b"], positives={"b"})
        for k in range(size)
    ]
    sample = sample_cases(cases, n, seed)
    assert len(sample) == (size if n is None else min(n, size))
    assert [int(c.case_id) for c in sample] == sorted(int(c.case_id) for c in sample)
    assert sample == sample_cases(cases, n, seed)


def test_cli_eval_reports_missing_data_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", "mind_zh.yaml", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "evaluation data not found" in result.output


@pytest.mark.parametrize("dataset", ["mind-zh", "kmrd"])
def test_a_run_on_small_files_in_the_real_formats(
    dataset: str, small_data_dir: Path, converted_small: Converted, tmp_path: Path
) -> None:
    protocol = (
        {"kind": "impressions"}
        if dataset == "mind-zh"
        else {"kind": "leave-last-out", "negatives": 5, "min_history": 1}
    )
    experiment = Experiment.model_validate(
        dict(SMALL, name=f"{dataset}-small-files", dataset=dataset, protocol=protocol)
    )
    out = tmp_path / "out"
    run_experiment(
        experiment, out_dir=out, data_dir=small_data_dir, cache_dir=tmp_path / "cache",
        progress=False,
    )  # fmt: skip
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [r["ranker"] for r in report["results"]] == [
        "random", "popularity", "cosine", "bilinear-learned",
    ]  # fmt: skip
    assert report["dataset"]["content_hash"] == converted_small(dataset)[0].content_hash
    cases = report["protocol"]["test_cases"]
    assert 0 < cases < {"mind-zh": 18, "kmrd": 8}[dataset]
    for row in report["results"]:
        assert 0.0 <= row["metrics"]["auc"] <= 1.0
    assert (out / "report.md").read_text(encoding="utf-8").startswith(f"# {dataset}-small-files")


def test_files_a_killed_run_left_half_written_are_handled(
    small_data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Saved scores cut short (a run killed while writing, before writes were atomic) are scored
    again with a warning naming the file; cut-short sampled negatives are a `DatasetError`
    naming theirs, not a JSONDecodeError from inside `json`."""
    from babelrec.errors import DatasetError

    experiment = Experiment.model_validate(
        dict(
            SMALL,
            name="cut-short",
            dataset="kmrd",
            protocol={"kind": "leave-last-out", "negatives": 5, "min_history": 1},
        )
    )
    out, cache = tmp_path / "out", tmp_path / "cache"

    def run() -> dict[str, Any]:
        return run_experiment(
            experiment, out_dir=out, data_dir=small_data_dir, cache_dir=cache, progress=False
        )

    first = run()
    scores = out / "scores" / "cosine.json"
    whole = scores.read_text(encoding="utf-8")
    scores.write_text(whole[: len(whole) // 2], encoding="utf-8")
    with caplog.at_level("WARNING"):
        again = run()
    assert f"ignoring unreadable saved scores {scores}" in caplog.text
    assert json.loads(scores.read_text(encoding="utf-8"))["scores"] == json.loads(whole)["scores"]
    assert [r["metrics"] for r in again["results"]] == [r["metrics"] for r in first["results"]]

    (negatives,) = (cache / "datasets" / "negatives").glob("*.json")
    negatives.write_text(negatives.read_text(encoding="utf-8")[:100], encoding="utf-8")
    with pytest.raises(DatasetError, match=f"Negatives in {negatives} cannot be read"):
        run()


def write_ml100k_folder(root: Path, seed: int, users: int = 40, films: int = 30) -> Path:
    """A small shared-data folder in the real ml100k atomic-file format (plus the KMRD files its
    converter reads for film matching), with ratings drawn from `seed`."""
    rng = random.Random(seed)
    (root / "ml100k").mkdir(parents=True)
    (root / "kmrd").mkdir()
    genres = ["Action", "Comedy", "Drama", "Romance", "Thriller"]
    items = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    items += [
        f"{i}\tFilm number {i}\t{1980 + i}\t{rng.choice(genres)}" for i in range(1, films + 1)
    ]
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for user in range(1, users + 1):
        for n, film in enumerate(rng.sample(range(1, films + 1), 8)):
            inter.append(f"{user}\t{film}\t{rng.randint(1, 5)}\t{880000000 + 1000 * n + user}")
    user_rows = ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"]
    user_rows += [f"{u}\t30\tF\tother\t00000" for u in range(1, users + 1)]
    for name, lines in [
        ("ml-100k.item", items),
        ("ml-100k.inter", inter),
        ("ml-100k.user", user_rows),
    ]:
        (root / "ml100k" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "kmrd" / "movies.txt").write_text(
        "movie\ttitle\ttitle_eng\tyear\tgrade\n10001\t영화\tFilm number 1 , 1981\t2013\t\n",
        encoding="utf-8",
    )
    (root / "kmrd" / "countries.csv").write_text("movie,country\n10001,미국\n", encoding="utf-8")
    (root / "kmrd" / "genres.csv").write_text("movie,genre\n10001,드라마\n", encoding="utf-8")
    return root


def test_two_data_folders_evaluated_one_after_the_other_give_two_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "sk-canary-eval-0b7e41"
    monkeypatch.setenv("OPENAI_API_KEY", canary)  # ...and no report ever holds the API key
    # Regression (issue 12): the converted dataset was cached under its name and seed alone, so
    # `eval ml100k.yaml --data OTHER` reported the numbers of the folder converted first.
    experiment = Experiment.model_validate(
        {
            "name": "two-folders",
            "dataset": "ml100k",
            "protocol": {"kind": "leave-last-out", "min_history": 1, "negatives": 10},
            "embedder": "hashing",
            "rankers": [{"name": "popularity"}, {"name": "cosine"}],
            "baseline": "cosine",
            "test_fraction": 0.5,
        }
    )
    cache = tmp_path / "cache"
    first, second = (write_ml100k_folder(tmp_path / f"data{s}", seed=s) for s in (1, 2))
    run = {"cache_dir": cache, "progress": False}
    a = run_experiment(experiment, out_dir=tmp_path / "out", data_dir=first, **run)  # type: ignore[arg-type]
    b = run_experiment(experiment, out_dir=tmp_path / "out", data_dir=second, **run)  # type: ignore[arg-type]
    assert a["dataset"]["content_hash"] != b["dataset"]["content_hash"]
    assert metrics(a) != metrics(b)
    assert len(list((cache / "datasets").glob("ml100k-seed0-*"))) == 2
    assert len(list((cache / "datasets" / "negatives").glob("*.json"))) == 2
    # the first folder again: its own conversion and negatives are reused, with its own numbers
    again = run_experiment(experiment, out_dir=tmp_path / "out", data_dir=first, **run)  # type: ignore[arg-type]
    assert metrics(again) == metrics(a) != metrics(b)
    for path in [*(tmp_path / "out").rglob("*"), *cache.rglob("*")]:
        assert not path.is_file() or canary.encode() not in path.read_bytes()
    assert len(list((cache / "datasets").glob("ml100k-seed0-*"))) == 2
    # an edited file (same folder, same size, same name) is other data too
    before = dataset_dir(experiment, first, cache)
    inter = first / "ml100k" / "ml-100k.inter"
    lines = inter.read_text(encoding="utf-8").splitlines()
    user, film, rating, stamp = lines[1].split("\t")
    lines[1] = "\t".join([user, film, "1" if rating != "1" else "2", stamp])
    inter.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert dataset_dir(experiment, first, cache) != before


def metrics(summary: dict[str, Any]) -> str:
    return json.dumps([r["metrics"] for r in summary["results"]])


def test_calibrated_variants_share_one_prepared_base_and_validation_leaves_test_users_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from babelrec.eval.rankers import BilinearEvalRanker, EvalContext

    prepared: list[int] = []
    real = BilinearEvalRanker.prepare

    def counting(self: BilinearEvalRanker, context: EvalContext) -> None:
        prepared.append(len(context.train_cases))
        real(self, context)

    monkeypatch.setattr(BilinearEvalRanker, "prepare", counting)
    base = {"weights": "learned", "epochs": 1}
    experiment = Experiment.model_validate({
        "name": "shared-base",
        "dataset": "ml100k",
        "protocol": {"kind": "leave-last-out", "min_history": 1, "negatives": 10},
        "embedder": "hashing",
        "rankers": [{"name": "bilinear", "options": base}] + [
            {"name": "calibrated", "label": f"cal-{w}",
             "options": {"base": "bilinear", "base_options": base, "weight": w}}
            for w in (0.5, 0.9, 0.99)
        ],
        "baseline": "bilinear",
        "penalty_cases": 0,
    })  # fmt: skip
    data = write_ml100k_folder(tmp_path / "data", seed=3, users=60)
    run = {"data_dir": data, "cache_dir": tmp_path / "cache", "progress": False}
    test = run_experiment(experiment, out_dir=tmp_path / "test", **run)  # type: ignore[arg-type]
    assert len(prepared) == 1  # one base for the uncalibrated ranker and three calibrated ones
    assert {r["ranker"] for r in test["results"]} == {"bilinear", "cal-0.5", "cal-0.9", "cal-0.99"}

    # validation: half the training users evaluated, trained on the other half
    valid = run_experiment(experiment, out_dir=tmp_path / "valid", validation=True, **run)  # type: ignore[arg-type]
    assert valid["protocol"]["validation"] and not test["protocol"]["validation"]
    assert len(prepared) == 2 and prepared[1] < prepared[0]
    scored = {
        name: set(json.loads((tmp_path / name / "scores" / "bilinear.json").read_text())["scores"])
        for name in ("test", "valid")
    }
    assert scored["valid"] and scored["valid"].isdisjoint(scored["test"])
