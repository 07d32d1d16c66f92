"""The `calibration` settings group: culture-aware re-ranking (`babelrec.rank.calibration`).

Kept apart from `babelrec.settings` only so that module stays readable; `Settings` carries it
as ``settings.calibration``, set from the environment as ``BABELREC_CALIBRATION__OPENNESS`` and
the like. The defaults come from the openness sweep in docs/results/calibration/ (README,
"Culture-aware calibration").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Divergence = Literal["js", "kl"]
#: Whom calibration re-ranks: nobody, users who set an openness, or every user with history.
Mode = Literal["off", "asked", "always"]
Dimension = Literal["language", "region"]
#: How first-stage scores become the relevance term, min-max normalised: the scores, the DCG
#: gain 1 / log2(rank + 2) of the first-stage rank (any first stage's scores alike), or the
#: softmax of the scores (probabilities, when the scores are logits).
RelevanceScale = Literal["minmax", "rank", "softmax"]
#: The order of the calibrated places: as greedy picked them (Steck), or by first-stage
#: relevance (the same set, so the same divergence).
HeadOrder = Literal["greedy", "relevance"]
#: The divergence term as it is (Steck: its scale, and so lambda's meaning, differ from one
#: catalog and user to the next) or over the first-stage head's own divergence (lambda then
#: trades relevance for the share of the divergence removed, alike on every catalog).
DivergenceScale = Literal["absolute", "relative"]


def _both() -> list[Dimension]:
    return ["language", "region"]


class CalibrationSettings(BaseModel):
    """Steck's calibrated re-ranking over the languages and regions of the first-stage list."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    mode: Mode = Field(
        default="asked",
        description="Re-rank the first-stage short list toward the user's target distribution "
        "of languages and regions before the LLM sees it: never (off), for users whose profile "
        "or request sets an openness (asked), or also for every user with `min_history` "
        "history items at the default openness (always).",
    )
    openness: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="Default openness of users whose profile sets none: 0 keeps to the user's "
        "own languages and regions, 1 spreads evenly over those the candidates offer.",
    )
    weight: float = Field(
        default=0.75,
        ge=0.0,
        le=1.0,
        description="Steck's lambda: (1 - weight) * relevance - weight * divergence; 0 keeps the "
        "first-stage order.",
    )
    divergence: Divergence = Field(
        default="js", description="Jensen-Shannon (bounded) or Kullback-Leibler (smoothed)."
    )
    divergence_scale: DivergenceScale = Field(
        default="relative",
        description="The divergence term as it is, or over the uncalibrated head's divergence "
        "(relative: the weight means the same on every catalog and user).",
    )
    kl_smoothing: float = Field(
        default=0.01,
        gt=0.0,
        lt=1.0,
        description="KL only: the list distribution is mixed with this share of the target.",
    )
    relevance: RelevanceScale = Field(
        default="rank",
        description="The relevance term, min-max normalised: the first-stage scores, the DCG "
        "gain of their rank, or their softmax.",
    )
    order: HeadOrder = Field(
        default="relevance",
        description="Order of the calibrated places: greedy's pick order, or the chosen items "
        "by first-stage relevance.",
    )
    pool: float | None = Field(
        default=None,
        ge=1.0,
        description="Only the first-stage top `pool * size` may fill the calibrated places; "
        "None: every candidate.",
    )
    dimensions: list[Dimension] = Field(
        default_factory=_both,
        min_length=1,
        description="What is calibrated; each dimension's divergence counts alike.",
    )
    size: int | None = Field(
        default=None,
        ge=1,
        description="How many leading places are chosen by calibration; None: the larger of "
        "the requested k and rerank.top (the LLM's short list).",
    )
    min_history: int = Field(
        default=1,
        ge=0,
        description="mode=always: history items needed before a user who set no openness is "
        "calibrated (a stated language alone says little of a cold user's taste).",
    )
    half_life_days: float | None = Field(
        default=365.0,
        gt=0,
        description="Time decay of timed history items in the affinity estimate (relative age: "
        "the history keeps its weight against the stated profile); None weighs all alike.",
    )
    stated_weight: float = Field(
        default=1.0,
        ge=0.0,
        description="How many history items the stated profile (language, region) counts for.",
    )
