"""`babelrec eval`: compare rankers on real data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console


@command(app, "eval", store=False)
def eval_command(
    opts: CommonOptions,
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML (or a bundled file name).")],
    limit: Annotated[int | None, typer.Option("--limit", help="Evaluate at most N cases.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Report folder.")] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Shared data folder (setting eval.data_dir)."),
    ] = None,
) -> None:
    """Compare rankers on real data; writes report.md, report.json and PNG plots.

    Example: babelrec eval babelrec/eval/experiments/mind_zh.yaml --limit 300 --out eval-out/mind-zh
    """
    from babelrec.eval.experiment import load_experiment
    from babelrec.eval.runner import run_experiment

    settings = opts.settings()
    exp = load_experiment(experiment)
    out_dir = out or Path("eval-out") / exp.name
    summary = run_experiment(
        exp,
        out_dir=out_dir,
        limit=limit,
        data_dir=data or settings.eval.data_dir,
        cache_dir=settings.cache_dir,
        progress=sys.stderr.isatty(),
    )
    table = Table(title=f"{exp.name} ({summary['protocol']['test_cases']} cases)")
    metrics = ["auc", "mrr", "ndcg@10", "recall@10"]
    table.add_column("ranker")
    for metric in metrics:
        table.add_column(metric, justify="right")
    for row in summary["results"]:
        table.add_row(
            row["ranker"], *(f"{row['metrics'].get(m, float('nan')):.3f}" for m in metrics)
        )
    console.print(table)
    console.print(f"report: {out_dir / 'report.md'}")
