"""Writing an experiment's report: `report.json` (every number), `report.md` (tables with the
best marked and intervals) and PNG plots (metric by ranker; per-language breakdown)."""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from babelrec.files import write_atomic

PACKAGES = ("babelrec", "numpy", "scipy", "chromadb", "llama-cpp-python", "pydantic")
TABLE_METRICS = ("auc", "mrr", "mrr_all", "ndcg@5", "ndcg@10", "recall@10", "recall@20", "hit@10")
BEYOND_METRICS = (
    "catalog_coverage",
    "ild@10",
    "popularity@10",
    "cross_lingual@10",
    "calibration_js@10",
    "language_penalty",
)


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(summary: dict[str, Any], metrics: tuple[str, ...], higher_is_better: bool = True) -> str:
    rows = summary["results"]
    present = [m for m in metrics if any(m in r["metrics"] for r in rows)]
    best: dict[str, float] = {}
    for metric in present:
        values = [r["metrics"].get(metric) for r in rows]
        finite = [v for v in values if isinstance(v, float) and not math.isnan(v)]
        if finite:
            best[metric] = max(finite) if higher_is_better else min(finite)
    lines = ["| ranker | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
    for row in rows:
        cells = []
        for metric in present:
            value = row["metrics"].get(metric)
            text = _fmt(value)
            if higher_is_better and metric in best and value == best[metric]:
                text = f"**{text}**"
            cells.append(text)
        lines.append(f"| {row['ranker']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _comparison_table(comparisons: dict[str, Any]) -> str:
    lines = [
        f"Each ranker against the baseline `{comparisons['baseline']}`, per user: mean difference, "
        "95% bootstrap interval, Wilcoxon signed-rank p-value.",
        "",
        "| ranker | metric | difference | 95% interval | p |",
        "|---|---|---|---|---|",
    ]
    for ranker, by_metric in comparisons["against"].items():
        for metric, c in by_metric.items():
            lines.append(
                f"| {ranker} | {metric} | {c['mean_difference']:+.4f} | "
                f"[{_fmt(c['ci_low'])}, {_fmt(c['ci_high'])}] | {_fmt(c['p_value'])} |"
            )
    return "\n".join(lines)


def _penalty_table(summary: dict[str, Any]) -> str:
    rows = [(label, d) for label, d in summary["details"].items() if d.get("language_penalty")]
    if not rows:
        return "No item has a translation: nothing to switch."
    lines = [
        "Drop in a candidate's rank percentile when only its text switches to the other "
        "language (the version in the user's language minus the other; 0 = language-blind), "
        "95% bootstrap interval over users.",
        "",
        "| ranker | space | language_penalty | 95% interval | share dropped | pairs | cases |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, d in rows:
        p = d["language_penalty"]
        lines.append(
            f"| {label} | {d.get('space', 'none')} | {p['mean']:+.4f} | "
            f"[{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}] | {_fmt(p['share_dropped'])} | "
            f"{p['n_pairs']} | {p['n_cases']} |"
        )
    return "\n".join(lines)


def _pairs_table(summary: dict[str, Any]) -> str:
    pairs = summary["comparisons"].get("pairs") or {}
    lines = ["| comparison | metric | difference | 95% interval | p |", "|---|---|---|---|---|"]
    for name, by_metric in pairs.items():
        for metric, c in by_metric.items():
            lines.append(
                f"| {name} | {metric} | {c['mean_difference']:+.4f} | "
                f"[{_fmt(c['ci_low'])}, {_fmt(c['ci_high'])}] | {_fmt(c['p_value'])} |"
            )
    return "\n".join(lines) if pairs else "No extra pairs."


def _breakdown_tables(summary: dict[str, Any], key: str, metric: str) -> str:
    details = summary["details"]
    groups = sorted({g for d in details.values() for g in d[key]})
    lines = ["| ranker | " + " | ".join(groups) + " |", "|---" * (len(groups) + 1) + "|"]
    for label, d in details.items():
        cells = [
            f"{_fmt(d[key][g].get(metric))} (n={int(d[key][g]['n'])})" if g in d[key] else "–"
            for g in groups
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _sampled(proto: dict[str, Any]) -> str:
    before = proto.get("test_cases_before_sampling", proto["test_cases"])
    return f" (a seeded sample of {before} test cases)" if before > proto["test_cases"] else ""


def markdown(summary: dict[str, Any]) -> str:
    exp, proto = summary["experiment"], summary["protocol"]
    parts = [
        f"# {exp['name']}: {exp['dataset']}, {proto['kind']}",
        "",
        f"{proto['test_cases']} test cases from {proto['test_users']} users{_sampled(proto)} "
        f"({proto['train_cases']} training cases; limit {proto['limit']}); embedder "
        f"`{exp['embedder']}`; seed {exp['seed']}; dataset hash "
        f"`{summary['dataset']['content_hash'][:16]}`.",
        f"Left out by the protocol: {proto['skipped'] or 'nothing'}. Share of candidates not in "
        f"the user's language: {_fmt(proto.get('foreign_candidate_share'))}.",
        "",
        "## Ranking quality (best in bold)",
        "",
        _table(summary, TABLE_METRICS),
        "",
        "## Beyond accuracy",
        "",
        _table(summary, BEYOND_METRICS, higher_is_better=False),
        "",
        "## Paired comparison",
        "",
        _comparison_table(summary["comparisons"]),
        *[f"\n{_comparison_table(more)}" for more in summary.get("more_comparisons", [])],
        "",
        "## Further paired comparisons",
        "",
        _pairs_table(summary),
        "",
        "## Language penalty",
        "",
        _penalty_table(summary),
        "",
        "## nDCG@10 by user language",
        "",
        _breakdown_tables(summary, "by_user_language", "ndcg@10"),
        "",
        "## nDCG@10 by language of the clicked/target item",
        "",
        _breakdown_tables(summary, "by_item_language", "ndcg@10"),
        "",
        "## Cost",
        "",
        "| ranker | seconds per user | other |",
        "|---|---|---|",
    ]
    for row in summary["results"]:
        stats = dict(row["stats"])
        per_user = stats.pop("seconds_per_user", float("nan"))
        stats.pop("seconds", None)
        other = ", ".join(f"{k} {_fmt(v)}" for k, v in stats.items()) or "–"
        parts.append(f"| {row['ranker']} | {_fmt(per_user)} | {other} |")
    return "\n".join(parts) + "\n"


def plots(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    rankers = [r["ranker"] for r in summary["results"]]
    baseline = summary["comparisons"]["baseline"]
    against = summary["comparisons"]["against"]
    for metric in ("ndcg@10", "auc"):
        values = [r["metrics"].get(metric, float("nan")) for r in summary["results"]]
        errors = []
        for label, value in zip(rankers, values, strict=True):
            c = against.get(label, {}).get(metric)
            errors.append(
                [
                    max(0.0, value - (c["ci_low"] + c["mean_a"])),
                    max(0.0, (c["ci_high"] + c["mean_a"]) - value),
                ]
                if c and label != baseline and not math.isnan(c["ci_low"])
                else [0.0, 0.0]
            )
        fig, ax = plt.subplots(figsize=(max(5, len(rankers) * 1.2), 3.5))
        ax.bar(rankers, values, yerr=list(zip(*errors, strict=True)), capsize=4, color="#4c72b0")
        ax.set_ylabel(metric)
        ax.set_title(f"{summary['experiment']['name']}: {metric} (95% interval vs {baseline})")
        ax.tick_params(axis="x", rotation=30)
        fig.tight_layout()
        path = out_dir / f"{metric.replace('@', '_at_')}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    details = summary["details"]
    groups = sorted({g for d in details.values() for g in d["by_user_language"]})
    fig, ax = plt.subplots(figsize=(max(5, len(rankers) * 1.2), 3.5))
    width = 0.8 / max(1, len(groups))
    for pos, group in enumerate(groups):
        heights = [
            details[r]["by_user_language"].get(group, {}).get("ndcg@10", 0.0) for r in rankers
        ]
        ax.bar([i + pos * width for i in range(len(rankers))], heights, width, label=group)
    ax.set_xticks([i + width * (len(groups) - 1) / 2 for i in range(len(rankers))], rankers)
    ax.tick_params(axis="x", rotation=30)
    ax.set_ylabel("nDCG@10")
    ax.set_title("nDCG@10 by user language")
    ax.legend(title="user language")
    fig.tight_layout()
    path = out_dir / "by_language.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def write_report(summary: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary["versions"] = package_versions()
    summary["machine"] = {"platform": platform.platform(), "python": platform.python_version()}
    write_atomic(
        out_dir / "report.json", json.dumps(summary, indent=2, ensure_ascii=False, default=str)
    )
    write_atomic(out_dir / "report.md", markdown(summary))
    summary["plots"] = [p.name for p in plots(summary, out_dir)]
