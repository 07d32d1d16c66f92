"""babelrec: cross-lingual, cross-cultural recommendations that explain themselves.

    from babelrec import Recommender, UserProfile

    rec = Recommender.from_settings()
    result = rec.recommend(UserProfile(language="zh", interests="我喜欢足球"), k=5)

Heavy parts (Chroma, models) load on first use, so `import babelrec` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from babelrec.errors import BabelrecError
from babelrec.models import (
    Candidate,
    Explanation,
    Filters,
    HistoryEntry,
    Item,
    Recommendation,
    RecommendationResult,
    StageScores,
    UserProfile,
)
from babelrec.settings import Settings

if TYPE_CHECKING:
    from babelrec.agent.agent import ChatAgent
    from babelrec.agent.state import ChatReply
    from babelrec.pipeline.recommender import Recommender

__version__ = "0.1.0"

__all__ = [
    "BabelrecError",
    "Candidate",
    "ChatAgent",
    "ChatReply",
    "Explanation",
    "Filters",
    "HistoryEntry",
    "Item",
    "Recommendation",
    "RecommendationResult",
    "Recommender",
    "Settings",
    "StageScores",
    "UserProfile",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "Recommender":
        from babelrec.pipeline.recommender import Recommender

        return Recommender
    if name == "ChatAgent":
        from babelrec.agent.agent import ChatAgent

        return ChatAgent
    if name == "ChatReply":
        from babelrec.agent.state import ChatReply

        return ChatReply
    raise AttributeError(f"module 'babelrec' has no attribute {name!r}")
