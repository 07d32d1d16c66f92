"""The language-space knobs of `Settings.retrieval` (`babelrec.retrieval.language_space`).

Kept apart from `babelrec.settings` only so that module stays readable; `RetrievalSettings`
inherits them, so they read and set as ``settings.retrieval.language_space`` and
``BABELREC_RETRIEVAL__LANGUAGE_SPACE``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LanguageSpaceName = Literal[
    "none", "center", "lsar", "center+lsar", "center+mean", "center+lsar+mean"
]


class LanguageSpaceKnobs(BaseModel):
    """Whether and how retrieval and the first ranking remove the language signal."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    language_space: LanguageSpaceName = Field(
        default="center+mean",
        description="Remove the language signal from the vectors retrieval and the first "
        "ranking compare (babelrec.retrieval.language_space); 'none' uses raw vectors.",
    )
    language_shrinkage: float = Field(
        default=20.0,
        ge=0.0,
        description="Pseudo-items pulling a small language's mean toward the global mean.",
    )


class DisplaySettings(BaseModel):
    """How recommended items are shown in the reader's language (`babelrec.display`); the
    `display` group: ``BABELREC_DISPLAY__MACHINE=request``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    machine: Literal["off", "cached", "request"] = Field(
        default="cached",
        description="Machine translation where the catalog has none: 'cached' shows what "
        "`babelrec translate` made (no generation at request time), 'request' also translates "
        "the top picks on demand through the LLM backend (slow and poor with the packaged tiny "
        "models: README, 'Items in the reader's language'), 'off' never.",
    )
    top: int = Field(default=5, ge=0, le=100, description="Picks translated on demand (request).")
    summary_sentences: int = Field(default=2, ge=0, le=5, description="Sentences of summary.")
    summary_chars: int = Field(default=240, ge=0, description="Longest summary shown.")
