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
