"""Evaluation protocols: turn a `Dataset` into `EvalCase`s, reporting everything left out.

- `impression_cases`: each impression is a case; its candidates are ranked, clicked ones are the
  positives (MIND-style reranking).
- `leave_last_out_cases`: for rating data, each user's last interaction (by time, then file order)
  is the target and the earlier ones the history. Candidates are the full catalog minus the
  history, or the target plus ``n_negatives`` sampled items the user never interacted with. The
  sample is drawn once with a seed and, given a file, stored there with its sha256 and the
  dataset's content hash, and reused by later runs (a mismatch raises `DatasetError`). Where
  every interaction has a timestamp, a case carries its history's times and the target's
  (`history_times`, `at`), so time-decayed affinity can be measured.

Cases a protocol cannot use (too little history, no positive, ...) are counted per reason in
`ProtocolResult.skipped`, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from babelrec.errors import DatasetError
from babelrec.eval.dataset import Dataset
from babelrec.files import write_atomic

NEGATIVES_FORMAT = 1


class EvalCase(BaseModel):
    """One ranking task: order `candidates` for a user; `positives` are the right answers."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    user_id: str
    history: list[str]
    candidates: list[str] = Field(min_length=1)
    positives: set[str] = Field(min_length=1)
    user_language: str | None = None
    user_region: str | None = None
    #: When each history item was last seen (aligned with `history`), and when the case happens.
    history_times: list[datetime] | None = None
    at: datetime | None = None

    @model_validator(mode="after")
    def _positives_are_candidates(self) -> EvalCase:
        if not self.positives <= set(self.candidates):
            raise ValueError("every positive must be among the candidates")
        if self.history_times is not None and len(self.history_times) != len(self.history):
            raise ValueError(
                f"{len(self.history_times)} history times for {len(self.history)} history items"
            )
        return self


class ProtocolResult(BaseModel):
    """The cases of one protocol run, with what was skipped and the parameters used."""

    model_config = ConfigDict(extra="forbid")

    protocol: Literal["impressions", "leave-last-out", "new-items"]
    dataset_hash: str
    cases: list[EvalCase]
    skipped: dict[str, int] = Field(default_factory=dict, description="Left out, per reason.")
    notes: dict[str, int] = Field(default_factory=dict)
    params: dict[str, str | int | None] = Field(default_factory=dict)


def impression_cases(dataset: Dataset, *, min_history: int = 1) -> ProtocolResult:
    """One case per impression with at least `min_history` history items and both labels."""
    cases: list[EvalCase] = []
    skipped: Counter[str] = Counter()
    for row in dataset.impressions:
        positives = row.positives
        if len(row.history) < min_history:
            skipped[f"history shorter than {min_history}"] += 1
        elif not positives:
            skipped["no clicked candidate"] += 1
        elif len(positives) == len(row.candidates):
            skipped["no unclicked candidate"] += 1
        else:
            language, region = dataset.user_locale(row.user_id)
            cases.append(
                EvalCase(
                    case_id=row.id,
                    user_id=row.user_id,
                    history=row.history,
                    candidates=row.candidates,
                    positives=positives,
                    user_language=language,
                    user_region=region,
                )
            )
    return ProtocolResult(
        protocol="impressions",
        dataset_hash=dataset.content_hash,
        cases=cases,
        skipped=dict(skipped),
        params={"min_history": min_history},
    )


def _sequences(dataset: Dataset) -> tuple[dict[str, dict[str, datetime | None]], int]:
    """Each user's distinct items, oldest first, each with its last time (a repeat counting at
    its last time), and how many repeats were collapsed."""
    order = sorted(
        range(len(dataset.interactions)), key=lambda i: (dataset.interactions[i].timestamp, i)
    )
    sequences: dict[str, dict[str, datetime | None]] = {}
    repeats = 0
    for index in order:
        row = dataset.interactions[index]
        seen = sequences.setdefault(row.user_id, {})
        if row.item_id in seen:
            repeats += 1
            del seen[row.item_id]
        seen[row.item_id] = row.timestamp
    return sequences, repeats


def _negatives_digest(negatives: dict[str, list[str]]) -> str:
    canonical = json.dumps(negatives, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sample_negatives(
    catalog: list[str], seen: dict[str, set[str]], n_negatives: int, seed: int
) -> dict[str, list[str]]:
    """`n_negatives` catalog items per user, none of which the user has seen (fewer if short).

    Users are drawn for in sorted order, so the sample depends only on the inputs and the seed.
    """
    rng = np.random.default_rng(seed)
    index = {item: i for i, item in enumerate(catalog)}
    negatives: dict[str, list[str]] = {}
    for user in sorted(seen):
        mask = np.ones(len(catalog), dtype=bool)
        mask[[index[i] for i in seen[user] if i in index]] = False
        pool = np.flatnonzero(mask)
        picked = rng.choice(pool, size=min(n_negatives, len(pool)), replace=False)
        negatives[user] = [catalog[i] for i in np.sort(picked)]
    return negatives


def _load_or_sample(
    path: Path | None, dataset: Dataset, seen: dict[str, set[str]], n_negatives: int, seed: int
) -> tuple[dict[str, list[str]], str]:
    if path is not None and path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetError(
                f"Negatives in {path} cannot be read ({exc}); delete the file to sample again."
            ) from exc
        if not isinstance(stored, dict):
            raise DatasetError(f"Negatives in {path} are not a JSON object; delete the file.")
        expected = {
            "format": NEGATIVES_FORMAT,
            "dataset_hash": dataset.content_hash,
            "seed": seed,
            "n_negatives": n_negatives,
        }
        wrong = {k: stored.get(k) for k, v in expected.items() if stored.get(k) != v}
        negatives = stored.get("negatives", {})
        if wrong:
            raise DatasetError(
                f"Negatives in {path} were sampled with {wrong}, not {expected}; "
                "delete the file to sample again, or pass another path."
            )
        if _negatives_digest(negatives) != stored.get("sha256"):
            raise DatasetError(f"Negatives in {path} do not match their sha256; delete the file.")
        return negatives, str(stored["sha256"])
    negatives = sample_negatives(list(dataset.items), seen, n_negatives, seed)
    digest = _negatives_digest(negatives)
    if path is not None:
        payload = {
            "format": NEGATIVES_FORMAT,
            "dataset_hash": dataset.content_hash,
            "seed": seed,
            "n_negatives": n_negatives,
            "sha256": digest,
            "negatives": negatives,
        }
        write_atomic(path, json.dumps(payload, ensure_ascii=False))
    return negatives, digest


def leave_last_out_cases(
    dataset: Dataset,
    *,
    candidates: Literal["all", "sampled"] = "sampled",
    n_negatives: int = 99,
    seed: int = 0,
    negatives_file: str | Path | None = None,
    min_history: int = 1,
) -> ProtocolResult:
    """One case per user with more than `min_history` distinct items: predict the last one."""
    sequences, repeats = _sequences(dataset)
    skipped: Counter[str] = Counter()
    skipped["user without interactions"] = sum(1 for u in dataset.users if u not in sequences)
    eligible = {u: s for u, s in sequences.items() if len(s) > min_history}
    skipped[f"fewer than {min_history + 1} distinct items"] = len(sequences) - len(eligible)

    digest: str | None = None
    negatives: dict[str, list[str]] = {}
    if candidates == "sampled":
        seen = {user: set(items) for user, items in eligible.items()}
        path = Path(negatives_file) if negatives_file is not None else None
        negatives, digest = _load_or_sample(path, dataset, seen, n_negatives, seed)
    catalog = list(dataset.items)
    position = {item: i for i, item in enumerate(catalog)}

    cases: list[EvalCase] = []
    short = 0
    for user, timed in eligible.items():
        items, stamps = list(timed), list(timed.values())
        target, history = items[-1], items[:-1]
        # a partly timed history would decay some items and not others: times for all or none
        known = [t for t in stamps if t is not None]
        when = known if len(known) == len(stamps) else None
        if candidates == "sampled":
            if user not in negatives:
                raise DatasetError(f"No stored negatives for user {user!r}; delete the file.")
            short += len(negatives[user]) < n_negatives
            pool = sorted([target, *negatives[user]], key=position.__getitem__)
        else:
            excluded = set(history)
            pool = [item for item in catalog if item not in excluded]
        language, region = dataset.user_locale(user)
        # Built from validated rows, so skip re-validation: full-catalog cases are large.
        cases.append(
            EvalCase.model_construct(
                case_id=user,
                user_id=user,
                history=history,
                candidates=pool,
                positives={target},
                user_language=language,
                user_region=region,
                history_times=when[:-1] if when else None,
                at=when[-1] if when else None,
            )
        )
    return ProtocolResult(
        protocol="leave-last-out",
        dataset_hash=dataset.content_hash,
        cases=cases,
        skipped={k: v for k, v in skipped.items() if v},
        notes={"repeat_interactions_collapsed": repeats, "users_with_fewer_negatives": short},
        params={
            "candidates": candidates,
            "n_negatives": n_negatives if digest else None,
            "seed": seed if digest else None,
            "negatives_sha256": digest,
            "min_history": min_history,
        },
    )
