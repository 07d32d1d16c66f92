"""Time decay of the affinity behind culture-aware calibration, measured: the default setting
(`docs/results/calibration/validation/variants.json`) with `calibration.half_life_days` none and
at HALF_LIVES, on the film datasets, whose leave-last-out cases carry each history item's time
and the case's own (MIND's impressions have none, so decay cannot change its lists).

    python bench/calibration_half_life.py --tune --limit kmrd=1000 --limit ml100k=0   # validation
    python bench/calibration_half_life.py --limit kmrd=1000 --limit ml100k=0          # test users

`--tune` decides the default half-life on validation users (the test users left out): among the
half-lives meeting the calibration goal on both datasets (JS(target) at most half the
uncalibrated list's, nDCG@10 within the uncalibrated list's own 95% interval), the one with the
best mean nDCG@10 difference; no decay competes like any half-life. The plain run measures the
same settings on the test users. Writes OUT/{validation,test}/NAME/report.*, and
OUT/half_life.json with every row and the goal checks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's babelrec, whatever is installed
sys.path.insert(0, str(ROOT / "bench"))
from calibration_sweep import (  # noqa: E402 (after the path set-up)
    OUT as SWEEP_OUT,
)
from calibration_sweep import (  # noqa: E402
    goal_checks,
    rows,
    run,
    setting,
)

OUT = SWEEP_OUT / "half_life"
DATASETS = ("kmrd", "ml100k")
HALF_LIVES = (30.0, 90.0, 365.0, 1095.0)


def rankers(name: str, default: dict[str, Any]) -> list[Any]:
    """The experiment's uncalibrated first stage, then the default setting without decay and at
    each half-life."""
    from babelrec.eval.experiment import load_experiment

    experiment = load_experiment(f"calibration_{name}.yaml")
    base = next(r for r in experiment.rankers if r.label == experiment.baseline)
    scale, openness, weight = setting(default)
    prefix = {"absolute": "cal", "relative": "rel"}[scale]
    label = f"{prefix}-o{openness:g}-w{weight:g}"
    template = next(r for r in experiment.rankers if r.label == label)
    out = [base]
    for half_life in (None, *HALF_LIVES):
        options = {**template.options, "half_life_days": half_life}
        suffix = "none" if half_life is None else f"{half_life:g}"
        out.append(template.model_copy(update={"label": f"{label}-h{suffix}",
                                               "options": options}))  # fmt: skip
    return out


def goals(tables: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per half-life (None: no decay), the goal checks on each dataset."""
    out = []
    for half_life in (0.0, *HALF_LIVES):  # 0.0: the -hnone row
        per = {
            name: next(r for r in table if r["weight"] is not None and r["half_life"] == half_life)
            for name, table in tables.items()
        }
        out.append({
            "half_life_days": half_life or None,
            **goal_checks(per),
            "target_js_ratio": {n: r.get("target_js_ratio") for n, r in per.items()},
        })  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", action="append", default=[], help="NAME=N users (0: all)")
    parser.add_argument("--tune", action="store_true", help="validation users: the default")
    parser.add_argument("--work", type=Path, default=ROOT / "eval-out" / "calibration-half-life")
    args = parser.parse_args()
    limits = {k: int(v) or None for k, v in (item.split("=", 1) for item in args.limit)}
    default = json.loads((SWEEP_OUT / "validation" / "variants.json").read_text())["default"]
    part = "validation" if args.tune else "test"
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in DATASETS:
        summary = run(name, limits.get(name), OUT / part, args.work / part, tune=args.tune,
                      rankers=rankers(name, default))  # fmt: skip
        tables[name] = rows(name, summary)
    checks = goals(tables)
    summary_path = OUT / "half_life.json"
    result = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    result["setting"] = default
    result[part] = {"goal": checks, "tables": tables}
    if args.tune:
        met = [g for g in checks if all(g["met"].values())]
        best = max(met, key=lambda g: g["mean_ndcg@10_diff"], default=None)
        result["chosen_half_life_days"] = best["half_life_days"] if best else None
        result["chosen_because"] = (
            "meets the goal on both datasets with the best mean nDCG@10 difference"
            if best else "no half-life meets the goal on both datasets: no decay"
        )  # fmt: skip
    summary_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps({"chosen_half_life_days": result.get("chosen_half_life_days")}))
    for g in checks:
        print(g["half_life_days"], "met", g["met"], "paired", g["ndcg_held_paired"],
              f"mean diff {g['mean_ndcg@10_diff']:+.4f}", "JS ratio",
              {n: round(v, 2) for n, v in g["target_js_ratio"].items() if v})  # fmt: skip


if __name__ == "__main__":
    main()
