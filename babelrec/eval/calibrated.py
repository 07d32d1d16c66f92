"""`calibrated`: a base ranker's list re-ranked by culture-aware calibration at an openness.

The base is prepared once per run and shared by every calibrated ranker over it
(`EvalContext.prepared_ranker`), so a sweep of many settings over a hybrid trains one hybrid.

The user is the case's stated language and region with its history (timed where the case has
times, so `half_life_days` decays it by age at the case's own time); the base ranker's scores
are the relevance (`babelrec.rank.calibration`). The calibrated order becomes the scores (first
place highest), so every metric reads the calibrated list. Not pointwise: a candidate's place
depends on the others'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from babelrec.culture_settings import CalibrationSettings
from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import EvalContext, EvalRanker, build_ranker
from babelrec.models import HistoryEntry, UserProfile
from babelrec.rank.calibration import calibrate_items

#: A stand-in language for cases whose user language is unknown (it matches no item).
UNKNOWN_LANGUAGE = "und"


class CalibratedEvalRanker(EvalRanker):
    """`base` (an eval ranker name and its options) calibrated over its first `size` places."""

    pointwise = False

    def __init__(
        self,
        base: str = "cosine",
        base_options: dict[str, Any] | None = None,
        *,
        openness: float = 0.0,
        size: int = 10,
        **calibration: Any,
    ) -> None:
        self.base_name = base
        self.base_options = dict(base_options or {})
        build_ranker(base, dict(self.base_options))  # a bad base fails here, not at prepare
        self.base: EvalRanker | None = None
        self.config = CalibrationSettings(openness=openness, size=size, **calibration)
        self.size = size
        self._before: list[float] = []
        self._after: list[float] = []
        self._kept = 0
        self._notes: dict[str, int] = {}

    def prepare(self, context: EvalContext) -> None:
        # the calibrated variants of one run share one prepared base (a hybrid takes minutes)
        self.base = context.prepared_ranker(self.base_name, self.base_options)

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        assert self.base is not None, "prepare() first"
        base = np.asarray(self.base.score(case, context), dtype=float)
        order = [int(i) for i in np.argsort(-base, kind="stable")]
        items = context.dataset.items
        times: list[datetime | None] = (
            list(case.history_times) if case.history_times else [None] * len(case.history)
        )
        user = UserProfile(
            language=case.user_language or UNKNOWN_LANGUAGE,
            region=case.user_region,
            history=[
                HistoryEntry(item_id=item_id, timestamp=when)
                for item_id, when in zip(case.history, times, strict=True)
            ],
        )
        history = [items[i] for i in case.history if i in items]
        calibration = calibrate_items(
            user,
            [items[case.candidates[i]] for i in order],
            [float(base[i]) for i in order],
            history,
            self.config,
            size=self.size,
            openness=self.config.openness,
            now=case.at,
        )
        outcome = calibration.outcome
        if outcome.js_before is not None and outcome.js_after is not None:
            self._before.append(outcome.js_before)  # JS, even where KL is minimised
            self._after.append(outcome.js_after)
        self._kept += outcome.kept_input
        for note in calibration.notes:
            key = note.split(":")[0]
            self._notes[key] = self._notes.get(key, 0) + 1
        scores = [0.0] * len(order)
        for place, index in enumerate(calibration.order):
            scores[order[index]] = float(len(order) - place)
        return scores

    def stats(self) -> dict[str, float]:
        out = {**(self.base.stats() if self.base else {}), "kept_input_cases": float(self._kept)}
        if self._before:
            out["target_js_before"] = float(np.mean(self._before))
            out["target_js_after"] = float(np.mean(self._after))
        return out
