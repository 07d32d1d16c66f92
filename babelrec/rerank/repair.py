"""Turning an LLM's ranking into a permutation of the candidates, counting every fix."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from babelrec.errors import LLMOutputError
from babelrec.models import RepairCounts


def repair_ranking(
    returned: Sequence[str],
    candidate_ids: Sequence[str],
    repairs: RepairCounts,
    history_ids: Collection[str] = (),
) -> list[str]:
    """A permutation of `candidate_ids`: unknown ids and history items dropped, duplicates dropped,
    missing candidates appended in their given (first-stage) order. Updates `repairs` in place;
    raises `LLMOutputError` when the answer holds no candidate at all (nothing to repair from)."""
    allowed = set(candidate_ids)
    order: list[str] = []
    for item_id in returned:
        if item_id not in allowed:
            if item_id in history_ids:
                repairs.history_removed += 1
            else:
                repairs.invalid_ids += 1
        elif item_id in order:
            repairs.duplicates += 1
        else:
            order.append(item_id)
    if not order:
        raise LLMOutputError("the LLM's ranking names none of the candidates", raw=str(returned))
    missing = [item_id for item_id in candidate_ids if item_id not in order]
    repairs.missing_appended += len(missing)
    return order + missing
