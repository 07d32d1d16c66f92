"""Running an experiment: convert the data once, freeze the cases, score them with every
ranker, compute metrics, breakdowns and paired comparisons, and write the report.

Every ranker sees the same cases. Scores are saved per ranker under `OUT/scores/`, so an
interrupted run resumes where it stopped; embeddings and LLM answers are cached on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.errors import DatasetError
from babelrec.eval.converters import convert
from babelrec.eval.dataset import Dataset, load_dataset
from babelrec.eval.experiment import Experiment, RankerConfig
from babelrec.eval.metrics import EvalReport, evaluate
from babelrec.eval.new_items import new_item_cases
from babelrec.eval.protocols import EvalCase, ProtocolResult, impression_cases, leave_last_out_cases
from babelrec.eval.rankers import EvalContext, build_ranker
from babelrec.eval.stats import paired_comparison, per_user_mean
from babelrec.retrieval.embedders import build_embedder
from babelrec.settings import DEFAULT_CACHE_DIR, Settings

logger = logging.getLogger(__name__)


def resolve_data_dir(experiment: Experiment, data_dir: Path | None) -> Path:
    path = data_dir or experiment.data_dir or Settings().eval.resolved_data_dir
    if not path.is_dir():
        raise DatasetError(
            f"evaluation data not found at {path.resolve()}: pass --data DIR or set "
            "BABELREC_EVAL__DATA_DIR to the folder holding mind/, xmind_zh/, kmrd/ and ml100k/"
        )
    return path


def prepared_dataset(experiment: Experiment, data_dir: Path, cache_dir: Path) -> Dataset:
    """Convert the experiment's dataset once into the cache, then load it."""
    target = cache_dir / "datasets" / f"{experiment.dataset}-seed{experiment.seed}"
    marker = target / "items.jsonl"
    if not marker.exists():
        convert(experiment.dataset, data_dir, target, seed=experiment.seed)
    return load_dataset(target)


def make_cases(experiment: Experiment, dataset: Dataset, cache_dir: Path) -> ProtocolResult:
    protocol = experiment.protocol
    if protocol.kind == "impressions":
        return impression_cases(dataset, min_history=protocol.min_history)
    negatives_file = None
    if protocol.negatives is not None:
        negatives_file = (
            cache_dir / "datasets" / f"{experiment.dataset}-seed{experiment.seed}"
            / f"negatives-{protocol.negatives}.json"
        )  # fmt: skip
    return leave_last_out_cases(
        dataset,
        candidates="all" if protocol.negatives is None else "sampled",
        n_negatives=protocol.negatives or 0,
        seed=experiment.seed,
        negatives_file=negatives_file,
        min_history=protocol.min_history,
    )


def split_cases(
    cases: Sequence[EvalCase], test_fraction: float, seed: int
) -> tuple[list[EvalCase], list[EvalCase]]:
    """Split by user (a user's cases all go one way), deterministically for a seed."""
    train: list[EvalCase] = []
    test: list[EvalCase] = []
    for case in cases:
        digest = hashlib.sha256(f"{seed}:{case.user_id}".encode()).digest()
        (test if int.from_bytes(digest[:4], "little") / 2**32 < test_fraction else train).append(
            case
        )
    return train, test


def _config_hash(config: RankerConfig, experiment: Experiment, case_ids: Sequence[str]) -> str:
    payload = json.dumps(
        [config.model_dump(), experiment.embedder, experiment.seed, list(case_ids)], sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def score_with(
    config: RankerConfig,
    experiment: Experiment,
    context: EvalContext,
    cases: Sequence[EvalCase],
    out_dir: Path,
    progress: bool,
) -> tuple[dict[str, list[float]], dict[str, float], float]:
    """Scores of one ranker for every case, resumed from `out_dir/scores` when possible."""
    path = out_dir / "scores" / f"{config.display}.json"
    key = _config_hash(config, experiment, [c.case_id for c in cases])
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return saved["scores"], saved.get("stats", {}), float(saved.get("seconds", 0.0))
    ranker = build_ranker(config.name, dict(config.options))
    started = time.perf_counter()
    ranker.prepare(context)
    scores: dict[str, list[float]] = {}
    iterator: Any = cases
    if progress:
        from tqdm import tqdm

        iterator = tqdm(cases, desc=config.display, unit="case", leave=False)
    for case in iterator:
        scores[case.case_id] = [float(s) for s in ranker.score(case, context)]
    seconds = time.perf_counter() - started
    stats = ranker.stats()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"key": key, "scores": scores, "stats": stats, "seconds": seconds}
    path.write_text(json.dumps(payload), encoding="utf-8")
    return scores, stats, seconds


def _target_language(case: EvalCase, dataset: Dataset) -> str:
    languages = {dataset.items[p].language or "?" for p in case.positives if p in dataset.items}
    return "+".join(sorted(languages)) or "?"


def breakdown(
    report: EvalReport, cases: Sequence[EvalCase], group_of: dict[str, str], metrics: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Mean of each metric per group of cases (e.g. per user language)."""
    grouped: dict[str, list[dict[str, float]]] = defaultdict(list)
    for result in report.cases:
        grouped[group_of[result.case_id]].append(result.metrics)
    out: dict[str, dict[str, float]] = {}
    for group, rows in sorted(grouped.items()):
        out[group] = {"n": float(len(rows))}
        for metric in metrics:
            values = [r[metric] for r in rows if metric in r and not np.isnan(r[metric])]
            out[group][metric] = float(np.mean(values)) if values else float("nan")
    return out


def compare(
    reports: dict[str, EvalReport], baseline: str, metrics: Sequence[str], seed: int
) -> dict[str, dict[str, Any]]:
    """Paired per-user comparison of every other ranker against `baseline`, per metric."""
    out: dict[str, dict[str, Any]] = {}
    base = reports[baseline]
    for label, report in reports.items():
        if label == baseline:
            continue
        out[label] = {}
        for metric in metrics:
            a = per_user_mean(
                [r.user_id for r in base.cases], [r.metrics[metric] for r in base.cases]
            )
            b = per_user_mean(
                [r.user_id for r in report.cases], [r.metrics[metric] for r in report.cases]
            )
            try:
                comparison = paired_comparison(a, b, seed=seed, n_resamples=2000)
            except ValueError:
                continue
            out[label][metric] = comparison.model_dump()
    return out


def run_experiment(
    experiment: Experiment,
    *,
    out_dir: Path,
    limit: int | None = None,
    data_dir: Path | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    progress: bool = True,
) -> dict[str, Any]:
    """Run every ranker of `experiment` and write report.json, report.md and plots to `out_dir`."""
    from babelrec.eval.report import write_report

    started = time.perf_counter()
    data_path = resolve_data_dir(experiment, data_dir)
    dataset = prepared_dataset(experiment, data_path, cache_dir)
    if experiment.protocol.kind == "new-items":
        protocol, dataset = new_item_cases(
            dataset,
            share=experiment.protocol.new_item_share,
            n_negatives=experiment.protocol.negatives or 99,
            seed=experiment.seed,
            min_history=experiment.protocol.min_history,
        )
    else:
        protocol = make_cases(experiment, dataset, cache_dir)
    train, test = split_cases(protocol.cases, experiment.test_fraction, experiment.seed)
    if limit is not None:
        test = test[:limit]
        train = train[: max(limit, 1) * 2]
    if not test:
        raise DatasetError(f"{experiment.name}: no test cases (check test_fraction and --limit)")

    needed = sorted({i for case in [*train, *test] for i in [*case.history, *case.candidates]})
    needed = [i for i in needed if i in dataset.items]
    embedder = build_embedder(experiment.embedder, cache_dir=cache_dir / "embeddings")
    from babelrec.retrieval.ingest import embed_in_batches

    texts = [dataset.items[i].embedding_text() for i in needed]
    matrix = embed_in_batches(embedder, texts, progress=progress, desc="embedding items")
    vectors = dict(zip(needed, matrix, strict=True))
    context = EvalContext(
        dataset=dataset, vectors=vectors, train_cases=train, test_cases=test, seed=experiment.seed
    )

    user_language = {c.case_id: c.user_language or "?" for c in test}
    target_language = {c.case_id: _target_language(c, dataset) for c in test}
    results: dict[str, Any] = {}
    reports: dict[str, EvalReport] = {}
    for config in experiment.rankers:
        scores, stats, seconds = score_with(config, experiment, context, test, out_dir, progress)
        report = evaluate(test, scores, dataset.items, k=experiment.k, vectors=vectors)
        reports[config.display] = report
        results[config.display] = {
            "ranker": config.display,
            "config": config.model_dump(),
            "metrics": {**report.mean, "catalog_coverage": report.catalog_coverage},
            "undefined": report.undefined,
            "stats": {**stats, "seconds": seconds, "seconds_per_user": seconds / len(test)},
            "by_user_language": breakdown(report, test, user_language, experiment.metrics),
            "by_item_language": breakdown(report, test, target_language, experiment.metrics),
        }

    comparisons = compare(reports, experiment.baseline, experiment.metrics, experiment.seed)
    more = {
        name: compare(reports, name, experiment.metrics, experiment.seed)
        for name in experiment.also_compare
        if name != experiment.baseline
    }

    summary = {
        "experiment": experiment.model_dump(mode="json"),
        "dataset": {
            "name": experiment.dataset,
            "content_hash": dataset.content_hash,
            "file_hashes": dataset.file_hashes,
            "items": len(dataset.items),
            "problems": len(dataset.problems),
        },
        "protocol": {
            "kind": protocol.protocol,
            "cases": len(protocol.cases),
            "skipped": protocol.skipped,
            "notes": protocol.notes,
            "params": protocol.params,
            "train_cases": len(train),
            "test_cases": len(test),
            "test_users": len({c.user_id for c in test}),
            "limit": limit,
        },
        "results": [
            {"ranker": label, "metrics": r["metrics"], "stats": r["stats"]}
            for label, r in results.items()
        ],
        "details": results,
        "comparisons": {"baseline": experiment.baseline, "against": comparisons},
        "more_comparisons": [{"baseline": name, "against": c} for name, c in more.items()],
        "seconds": time.perf_counter() - started,
    }
    write_report(summary, out_dir)
    return summary
