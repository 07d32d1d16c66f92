"""Running an experiment: convert the data once, freeze the cases, score them with every
ranker, compute metrics, breakdowns and paired comparisons, and write the report.

Every ranker sees the same cases. Scores are saved per ranker under `OUT/scores/` (keyed by the
ranker's configuration, the cases and babelrec's source, `code_fingerprint`), so an
interrupted run resumes where it stopped; embeddings and LLM answers are cached on disk.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.errors import DatasetError
from babelrec.eval.dataset import Dataset
from babelrec.eval.experiment import Experiment, RankerConfig
from babelrec.eval.language_penalty import (
    TranslatedVectors,
    case_drops,
    summarise,
    swapped_scores,
)
from babelrec.eval.metrics import EvalReport, evaluate
from babelrec.eval.new_items import new_item_cases
from babelrec.eval.prepare import prepared_dataset, resolve_data_dir
from babelrec.eval.protocols import EvalCase, ProtocolResult, impression_cases, leave_last_out_cases
from babelrec.eval.rankers import EvalContext, build_ranker
from babelrec.eval.report_stats import breakdown, compare, intervals, paired
from babelrec.eval.spaces import SpaceVectors, embed_translations
from babelrec.files import write_atomic
from babelrec.retrieval.embedders import build_embedder
from babelrec.settings import DEFAULT_CACHE_DIR

logger = logging.getLogger(__name__)


def make_cases(experiment: Experiment, dataset: Dataset, cache_dir: Path) -> ProtocolResult:
    protocol = experiment.protocol
    if protocol.kind == "impressions":
        return impression_cases(dataset, min_history=protocol.min_history)
    negatives_file = None
    if protocol.negatives is not None:
        # Sampled negatives are keyed by the dataset's own content, whatever folder it came from.
        negatives_file = (
            cache_dir / "datasets" / "negatives"
            / f"{dataset.content_hash[:16]}-seed{experiment.seed}-n{protocol.negatives}.json"
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


def sample_cases(cases: Sequence[EvalCase], n: int | None, seed: int) -> list[EvalCase]:
    """At most `n` of `cases`, chosen by a seeded hash of the case id, in their order."""
    if n is None or len(cases) <= n:
        return list(cases)
    rank = sorted(
        cases, key=lambda c: hashlib.sha256(f"sample:{seed}:{c.case_id}".encode()).digest()
    )
    chosen = {c.case_id for c in rank[:n]}
    return [c for c in cases if c.case_id in chosen]


@functools.cache
def code_fingerprint() -> str:
    """A hash of babelrec's own source files: saved scores are reused only by the code that
    computed them (a changed ranker would otherwise resume from its old scores)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _config_hash(
    config: RankerConfig, experiment: Experiment, case_ids: Sequence[str], content_hash: str
) -> str:
    space = config.space or experiment.language_space
    parts: list[Any] = [
        code_fingerprint(),
        config.model_dump(),
        experiment.embedder,
        experiment.seed,
        list(case_ids),
        content_hash,
    ]
    if space != "none":
        parts.append(space)
    payload = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def score_with(
    config: RankerConfig,
    experiment: Experiment,
    context: EvalContext,
    cases: Sequence[EvalCase],
    out_dir: Path,
    progress: bool,
    translated: TranslatedVectors | None = None,
) -> tuple[dict[str, list[float]], dict[str, dict[str, float]], dict[str, float], float]:
    """Scores of one ranker for every case, and with `translated` each translated candidate's
    score with its other text; resumed from `out_dir/scores` when possible."""
    path = out_dir / "scores" / f"{config.display}.json"
    key = _config_hash(config, experiment, [c.case_id for c in cases], context.dataset.content_hash)
    if translated:
        key += f"+swapped{experiment.penalty_cases}"
    saved = _saved_scores(path)
    if saved is not None and saved.get("key") == key:
        seconds = float(saved.get("seconds", 0.0))
        return saved["scores"], saved.get("swapped", {}), saved.get("stats", {}), seconds
    ranker = build_ranker(config.name, dict(config.options))
    started = time.perf_counter()
    ranker.prepare(context)
    context.share(config.name, config.options, ranker)
    scores: dict[str, list[float]] = {}
    iterator: Any = cases
    if progress:
        from tqdm import tqdm

        iterator = tqdm(cases, desc=config.display, unit="case", leave=False)
    for case in iterator:
        scores[case.case_id] = [float(s) for s in ranker.score(case, context)]
    seconds = time.perf_counter() - started
    stats = ranker.stats()
    swapped: dict[str, dict[str, float]] = {}
    if translated:
        penalty_started = time.perf_counter()
        swapped = swapped_scores(
            ranker, cases, context, translated, max_cases=experiment.penalty_cases
        )
        stats["penalty_seconds"] = time.perf_counter() - penalty_started
    payload = {"key": key, "scores": scores, "swapped": swapped, "stats": stats}
    write_atomic(path, json.dumps({**payload, "seconds": seconds}))
    return scores, swapped, stats, seconds


def _saved_scores(path: Path) -> dict[str, Any] | None:
    """The scores a previous run saved at `path`, or None (with a warning when the file is
    there but unreadable: the scores are computed again and the file replaced)."""
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable saved scores %s (%s); scoring again", path, exc)
        return None
    return saved if isinstance(saved, dict) else None


def _target_language(case: EvalCase, dataset: Dataset) -> str:
    languages = {dataset.items[p].language or "?" for p in case.positives if p in dataset.items}
    return "+".join(sorted(languages)) or "?"


def foreign_candidate_share(cases: Sequence[EvalCase], dataset: Dataset) -> float:
    """Mean share of a case's candidates (of known language) not in the user's language: the
    cross-lingual exposure a language-blind ranker has in expectation when a list shows all."""
    shares = []
    for case in cases:
        known = [dataset.items[c].language for c in case.candidates if dataset.items[c].language]
        if case.user_language and known:
            shares.append(sum(lang != case.user_language for lang in known) / len(known))
    return float(np.mean(shares)) if shares else float("nan")


def run_experiment(
    experiment: Experiment,
    *,
    out_dir: Path,
    limit: int | None = None,
    data_dir: Path | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    progress: bool = True,
    validation: bool = False,
) -> dict[str, Any]:
    """Run every ranker of `experiment` and write report.json, report.md and plots to `out_dir`.

    `validation`: leave the test users out altogether and evaluate half of the training users
    (split by user, seeded) against rankers trained on the other half, for tuning a setting
    without looking at the test users."""
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
    if validation:
        train, test = split_cases(train, 0.5, experiment.seed + 1)
    if limit is not None:
        test = test[:limit]
        train = train[: max(limit, 1) * 2]
    if experiment.max_train_cases is not None:
        train = train[: experiment.max_train_cases]
    if not test:
        raise DatasetError(f"{experiment.name}: no test cases (check test_fraction and --limit)")
    all_test, test = test, sample_cases(test, experiment.max_test_cases, experiment.seed)

    needed = sorted({i for case in [*train, *all_test] for i in [*case.history, *case.candidates]})
    needed = [i for i in needed if i in dataset.items]
    embedder = build_embedder(experiment.embedder, cache_dir=cache_dir / "embeddings")
    from babelrec.retrieval.ingest import embed_in_batches

    texts = [dataset.items[i].embedding_text() for i in needed]
    # in chunks, so an interrupted first run keeps what it embedded in the cache
    chunks = [texts[start : start + 1024] for start in range(0, len(texts), 1024)] or [[]]
    matrix = np.concatenate(
        [embed_in_batches(embedder, c, progress=progress, desc="embedding items") for c in chunks]
    )
    raw = dict(zip(needed, matrix, strict=True))
    spaces = SpaceVectors(
        raw,
        {i: dataset.items[i].language for i in needed},
        embed_translations(embedder, [dataset.items[i] for i in needed], progress=progress),
    )

    contexts: dict[str, EvalContext] = {}  # one per space: rankers share what it prepared

    def context_for(space: str) -> EvalContext:
        if space not in contexts:
            contexts[space] = EvalContext(
                dataset=dataset,
                vectors=spaces.vectors(space),
                train_cases=train,
                test_cases=all_test,
                seed=experiment.seed,
            )
        return contexts[space]

    user_language = {c.case_id: c.user_language or "?" for c in test}
    target_language = {c.case_id: _target_language(c, dataset) for c in test}
    results: dict[str, Any] = {}
    reports: dict[str, EvalReport] = {}
    user_of = {c.case_id: c.user_id for c in test}
    for config in experiment.rankers:
        space = config.space or experiment.language_space
        context = context_for(space)
        translated = spaces.translated(space) or None
        scores, swapped, stats, seconds = score_with(
            config, experiment, context, test, out_dir, progress, translated
        )
        report = evaluate(test, scores, dataset.items, k=experiment.k, vectors=context.vectors)
        reports[config.display] = report
        penalty = None
        if translated:
            drops = {
                c.case_id: case_drops(c, dataset.items, scores[c.case_id], swapped[c.case_id])
                for c in test
                if c.case_id in swapped
            }
            penalty = summarise(drops, user_of, seed=experiment.seed)
        metrics = {**report.mean, "catalog_coverage": report.catalog_coverage}
        if penalty is not None:
            metrics["language_penalty"] = penalty.mean
        results[config.display] = {
            "ranker": config.display,
            "config": config.model_dump(),
            "space": space,
            "language_penalty": penalty.model_dump() if penalty else None,
            "metrics": metrics,
            "undefined": report.undefined,
            "stats": {**stats, "seconds": seconds, "seconds_per_user": seconds / len(test)},
            "by_user_language": breakdown(report, test, user_language, experiment.metrics),
            "by_item_language": breakdown(report, test, target_language, experiment.metrics),
        }

    comparisons = compare(reports, experiment.baseline, experiment.metrics, experiment.seed)
    pairs: dict[str, dict[str, Any]] = {}
    for label_a, label_b in experiment.pairs:
        pairs[f"{label_b} vs {label_a}"] = paired(
            reports[label_a], reports[label_b], experiment.metrics, experiment.seed
        )
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
            "test_cases_before_sampling": len(all_test),
            "foreign_candidate_share": foreign_candidate_share(test, dataset),
            "limit": limit,
            "validation": validation,
        },
        "results": [
            {"ranker": label, "metrics": r["metrics"], "stats": r["stats"]}
            for label, r in results.items()
        ],
        "details": results,
        "comparisons": {"baseline": experiment.baseline, "against": comparisons, "pairs": pairs},
        "baseline_intervals": intervals(
            reports[experiment.baseline], experiment.metrics, experiment.seed
        ),
        "more_comparisons": [{"baseline": name, "against": c} for name, c in more.items()],
        "seconds": time.perf_counter() - started,
    }
    write_report(summary, out_dir)
    return summary
