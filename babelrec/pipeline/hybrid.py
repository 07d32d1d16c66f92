"""The hybrid first stage inside the pipeline: widen vector-search candidates with the items the
collaborative model suggests, and rank them all with the fused score.

Vector search finds items by content (a new item with no interactions included); the
collaborative model adds the items that users like this one took, which content may miss (a
history in another language than the items, or tastes the text does not show).
"""

from __future__ import annotations

import numpy as np

from babelrec.models import Candidate, Filters, Item, StageScores, UserProfile
from babelrec.rank.hybrid_model import HybridModel
from babelrec.retrieval.language_space import LanguageSpace
from babelrec.retrieval.records import Hit
from babelrec.retrieval.store import VectorStore

#: Collaborative suggestions added to the vector-search candidates.
SUGGESTED = 20


def passes(filters: Filters | None, item: Item) -> bool:
    """Whether `item` meets `filters` (the same rules as the store's where clause)."""
    if filters is None:
        return True
    language, category = (item.language or "").lower(), (item.category or "").lower()
    return not (
        (filters.languages and language not in filters.languages)
        or (filters.regions and (item.region or "").upper() not in filters.regions)
        or (filters.categories and category not in filters.categories)
        or (filters.exclude_languages and language in filters.exclude_languages)
        or (filters.exclude_categories and category in filters.exclude_categories)
    )


def hybrid_candidates(
    model: HybridModel,
    store: VectorStore,
    user: UserProfile,
    user_vector: np.ndarray,
    hits: list[Hit],
    filters: Filters | None,
    suggested: int = SUGGESTED,
    space: LanguageSpace | None = None,
) -> list[Candidate]:
    """Search hits plus collaborative suggestions, scored by `model`, best first. With a
    language `space`, item vectors are compared in it, as the user vector and training were."""
    history = user.history_ids
    ids = [hit.item.id for hit in hits]
    extra = model.suggest(history, suggested, exclude=ids)
    stored = store.get([*ids, *extra], with_vectors=True)
    items = {hit.item.id: hit.item for hit in hits}
    for item_id in extra:
        if item_id in stored and passes(filters, stored[item_id].item):
            items[item_id] = stored[item_id].item
    ids = [i for i in items if i in stored and stored[i].vector is not None]
    if not ids:
        return []
    matrix = np.stack([stored[i].vector for i in ids])  # type: ignore[misc]
    if space is not None and not space.is_identity:
        matrix = space.transform(matrix, [items[i].language for i in ids])
    content = model.bilinear.score(user_vector, ids, matrix)
    fused = model.score(user_vector, history, ids, matrix)
    similarity = matrix @ user_vector
    candidates = [
        Candidate(
            item=items[i],
            scores=StageScores(
                retrieval=float(similarity[pos]),
                bilinear=float(content[pos]),
                hybrid=float(fused[pos]),
                final=float(fused[pos]),
            ),
        )
        for pos, i in enumerate(ids)
    ]
    candidates.sort(key=lambda c: (-c.scores.final, c.item.id))
    return candidates
