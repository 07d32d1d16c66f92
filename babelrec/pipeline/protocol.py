"""What a face (the chat agent, the service, integrations) needs from the pipeline.

Faces depend on this protocol, never on `Recommender`'s attributes, so a remote or test
implementation can stand in for the facade.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from babelrec.models import Filters, RecommendationResult, UserProfile
from babelrec.retrieval.records import StoredItem
from babelrec.settings import Settings


@runtime_checkable
class RecommendationService(Protocol):
    """Recommend, look items up, embed queries; and the settings it was built from."""

    @property
    def settings(self) -> Settings: ...

    def recommend(
        self,
        user_or_text: UserProfile | str,
        k: int = 10,
        *,
        filters: Filters | None = None,
        explain: bool = True,
        language: str | None = None,
        use_llm: bool | None = None,
    ) -> RecommendationResult: ...

    def get_items(
        self, ids: Sequence[str], *, with_vectors: bool = False
    ) -> dict[str, StoredItem]: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...
