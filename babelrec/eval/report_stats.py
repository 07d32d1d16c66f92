"""What an experiment reports about its rankers: per-group means, each metric's interval over
users, and paired per-user comparisons against the baseline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from babelrec.eval.metrics import EvalReport
from babelrec.eval.protocols import EvalCase
from babelrec.eval.stats import mean_interval, paired_comparison, per_user_mean


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


def _by_user(report: EvalReport, metric: str) -> dict[str, float]:
    """A metric's value per user (the mean of the user's cases)."""
    cases = report.cases
    return per_user_mean([r.user_id for r in cases], [r.metrics[metric] for r in cases])


def paired(a: EvalReport, b: EvalReport, metrics: Sequence[str], seed: int) -> dict[str, Any]:
    """Paired per-user comparison of `b` against `a`, per metric (none where nothing pairs)."""
    out: dict[str, Any] = {}
    for metric in metrics:
        values_a, values_b = _by_user(a, metric), _by_user(b, metric)
        try:
            out[metric] = paired_comparison(
                values_a, values_b, seed=seed, n_resamples=2000
            ).model_dump()
        except ValueError:
            continue
    return out


def intervals(report: EvalReport, metrics: Sequence[str], seed: int) -> dict[str, Any]:
    """Each metric's mean over users with its 95% bootstrap interval (one ranker alone)."""
    out: dict[str, Any] = {}
    for metric in metrics:
        mean, low, high = mean_interval(_by_user(report, metric), seed=seed)
        out[metric] = {"mean": mean, "ci_low": low, "ci_high": high}
    return out


def compare(
    reports: dict[str, EvalReport], baseline: str, metrics: Sequence[str], seed: int
) -> dict[str, dict[str, Any]]:
    """Paired per-user comparison of every other ranker against `baseline`, per metric."""
    return {
        label: paired(reports[baseline], report, metrics, seed)
        for label, report in reports.items()
        if label != baseline
    }
