"""`Recommender`: the pipeline facade behind the CLI, the chat agent and the Python API.

retrieve (Chroma, by user vector and filters) -> first ranking (the hybrid of content,
collaborative and popularity when `babelrec train` learned one, else bilinear) -> culture-aware
calibration of the short list (`babelrec.rank.calibration`, setting `calibration`) -> optional
LLM rerank and explanations. Each stage's score is kept on every result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.errors import EmbeddingMismatchError, RankerError
from babelrec.explain.evidence import SpaceVectors
from babelrec.io.catalog import fill_languages
from babelrec.models import (
    Candidate,
    Filters,
    Item,
    Recommendation,
    RecommendationResult,
    StageScores,
    UserProfile,
)
from babelrec.pipeline.generative import GenerativeStage
from babelrec.pipeline.hybrid import hybrid_candidates
from babelrec.rank.bilinear import BilinearRanker
from babelrec.rank.calibration import calibrate_candidates
from babelrec.rank.hybrid_model import HybridModel
from babelrec.rank.users import build_user_vector
from babelrec.retrieval.agnostic import agnostic_query, searched_languages, store_space
from babelrec.retrieval.embedders import Embedder, build_embedder
from babelrec.retrieval.embedders.worker import EmbeddingWorker
from babelrec.retrieval.ingest import IngestSummary, ingest_file, ingest_items
from babelrec.retrieval.language_space import LanguageSpace, LanguageStats
from babelrec.retrieval.records import StoredItem
from babelrec.retrieval.store import VectorStore
from babelrec.settings import Settings

logger = logging.getLogger(__name__)

BILINEAR_FILE = "bilinear.npz"
HYBRID_DIR = "hybrid"


class Recommender:
    """Recommends items for a user profile or a free-text request, with stage scores."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: VectorStore,
        ranker: BilinearRanker | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.ranker = ranker or self._load_ranker()
        self.hybrid: HybridModel | None = self._load_hybrid()
        self.generative = GenerativeStage(settings)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> Recommender:
        """Build every component from settings (environment `BABELREC_*`, then `overrides`)."""
        settings = (
            Settings(**overrides) if settings is None else settings.with_overrides(**overrides)
        )
        embedder = build_embedder(settings.embedder, cache_dir=settings.cache_dir / "embeddings")
        store = VectorStore.open(
            embedder_name=embedder.name,
            dimension=embedder.dimension,
            store_path=settings.store_path,
            chroma_url=settings.store.chroma_url,
            collection=settings.store.collection,
            data_dir=settings.data_dir,
            ef_search=settings.store.ef_search,
        )
        return cls(settings, embedder, store)

    # -- catalog ---------------------------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        *,
        strict: bool = False,
        progress: bool = False,
        worker: EmbeddingWorker | None = None,
    ) -> IngestSummary:
        """Add or update a JSONL/CSV catalog's items (`babelrec.retrieval.ingest`; `worker`)."""
        return ingest_file(
            Path(path), self.store, self.embedder, strict=strict, progress=progress, worker=worker
        )

    def ingest_items(self, items: Sequence[Item]) -> IngestSummary:
        """Add or update validated items (languages detected where missing), all or nothing."""
        detected = fill_languages(listed := list(items))
        summary = ingest_items(listed, self.store, self.embedder)
        summary.languages_detected = detected
        return summary

    # -- ranking ---------------------------------------------------------------------------

    @property
    def ranker_path(self) -> Path:
        return self.store.artifact_dir / BILINEAR_FILE

    def _load_ranker(self) -> BilinearRanker:
        path = self.ranker_path
        if path.exists():
            ranker = BilinearRanker.load(path)
            if ranker.dimension == self.embedder.dimension:
                return ranker
            logger.warning("ignoring %s: trained for %d-d vectors", path, ranker.dimension)
        return BilinearRanker.identity(self.embedder.dimension)

    def save_ranker(self, ranker: BilinearRanker) -> Path:
        if ranker.dimension != self.embedder.dimension:
            raise RankerError(
                f"ranker is {ranker.dimension}-d but the store holds "
                f"{self.embedder.dimension}-d vectors"
            )
        ranker.save(self.ranker_path)
        self.ranker = ranker
        return self.ranker_path

    def language_space(self) -> tuple[LanguageSpace, LanguageStats | None]:
        """The space the first stage compares vectors in, fitted from the store's statistics."""
        retrieval = self.settings.retrieval
        return store_space(
            self.store, retrieval.language_space, shrinkage=retrieval.language_shrinkage
        )

    def item_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored items' vectors in the space the first stage ranks in (for training W)."""
        stored = self.store.get(ids, with_vectors=True)
        found = {i: s for i, s in stored.items() if s.vector is not None}
        if not found:
            return {}
        space, _ = self.language_space()
        keys = list(found)
        matrix = space.transform(
            np.stack([found[i].vector for i in keys]),  # type: ignore[misc]
            [found[i].item.language for i in keys],
        )
        if space.is_identity:  # raw vectors as stored, as before spaces existed
            return {i: found[i].vector for i in keys}  # type: ignore[misc]
        return dict(zip(keys, matrix, strict=True))

    @property
    def hybrid_path(self) -> Path:
        return self.store.artifact_dir / HYBRID_DIR

    def _load_hybrid(self) -> HybridModel | None:
        """The hybrid first stage saved with the store by `babelrec train`, if any."""
        if not (self.hybrid_path / "hybrid.json").exists():
            return None
        try:
            return HybridModel.load(
                self.hybrid_path, embedder=self.embedder.name, dimension=self.embedder.dimension
            )
        except EmbeddingMismatchError as exc:
            logger.warning("ignoring the hybrid model: %s", exc)
            return None

    def save_hybrid(self, model: HybridModel) -> Path:
        """Save `model` with the store and use it from now on."""
        expected = (self.embedder.name, self.embedder.dimension)
        if (model.meta.embedder, model.meta.dimension) != expected:
            raise EmbeddingMismatchError(
                f"the hybrid model was trained for {model.meta.embedder} vectors, but the store "
                f"holds {self.embedder.name} ones"
            )
        model.save(self.hybrid_path)
        self.hybrid = model
        return self.hybrid_path

    def profile_for(
        self, user_or_text: UserProfile | str, language: str | None = None
    ) -> UserProfile:
        """A free-text request becomes a profile whose interests are the text."""
        if isinstance(user_or_text, UserProfile):
            return user_or_text
        if language is None:
            from babelrec.i18n.langid import detect_language

            language = detect_language(user_or_text) or "en"
        return UserProfile(language=language, interests=user_or_text)

    def first_stage(
        self,
        user: UserProfile,
        *,
        n: int | None = None,
        filters: Filters | None = None,
        timings: dict[str, float] | None = None,
    ) -> tuple[list[Candidate], list[str]]:
        """Retrieve and rank candidates (with the hybrid model when one was trained, else the
        bilinear ranker); returns them (best first) and unknown history ids."""
        timings = timings if timings is not None else {}
        started = time.perf_counter()
        space, stats = self.language_space()
        agnostic = not space.is_identity
        if (
            self.settings.retrieval.language_space != "none"
            and stats is None
            and self.store.count()
        ):
            logger.warning(
                "this store has no language statistics, so ranking uses raw vectors: "
                "run `babelrec migrate` once"
            )
        user_vec = build_user_vector(
            user,
            self.store,
            self.embedder,
            interest_weight=self.settings.retrieval.interest_weight,
            half_life_days=self.settings.retrieval.history_half_life_days,
            space=space if agnostic else None,
        )
        timings["user_vector"] = time.perf_counter() - started

        started = time.perf_counter()
        want = n or self.settings.retrieval.candidates
        if agnostic:
            hits = agnostic_query(
                self.store,
                space,
                searched_languages(stats),
                user_vec.vector,
                want,
                filters=filters,
                exclude_ids=user.history_ids,
            )
        else:
            hits = self.store.query(
                user_vec.vector, want, filters=filters, exclude_ids=user.history_ids
            )
        timings["retrieve"] = time.perf_counter() - started

        started = time.perf_counter()
        candidates: list[Candidate] = []
        if self.hybrid is not None:
            candidates = hybrid_candidates(
                self.hybrid, self.store, user, user_vec.vector, hits, filters, space=space
            )
        elif hits:
            ids = [hit.item.id for hit in hits]
            if agnostic:
                matrix = np.stack([hit.vector for hit in hits])  # type: ignore[misc]
            else:
                vectors = self.store.get(ids, with_vectors=True)
                matrix = np.stack([vectors[i].vector for i in ids])  # type: ignore[misc]
            scores = self.ranker.score(user_vec.vector, ids, matrix)
            for hit, score in zip(hits, scores, strict=True):
                stage = StageScores(
                    retrieval=hit.similarity, bilinear=float(score), final=float(score)
                )
                candidates.append(Candidate(item=hit.item, scores=stage))
            candidates.sort(key=lambda c: (-c.scores.final, c.item.id))
        timings["rank"] = time.perf_counter() - started
        return candidates, user_vec.unknown_history

    def recommend(
        self,
        user_or_text: UserProfile | str,
        k: int = 10,
        *,
        filters: Filters | None = None,
        explain: bool = True,
        language: str | None = None,
        use_llm: bool | None = None,
    ) -> RecommendationResult:
        """The top `k` items for a user (or a free-text request), best first.

        The LLM reranks the first-stage short list unless `use_llm=False` or `settings.llm` is
        "none"; `explain=True` adds explanations (grounded templates when the LLM is off).
        """
        started = time.perf_counter()
        user = self.profile_for(user_or_text, language)
        timings: dict[str, float] = {}
        candidates, unknown = self.first_stage(user, filters=filters, timings=timings)
        warnings = []
        if unknown:
            warnings.append(
                f"{len(unknown)} history id(s) not in the catalog: {', '.join(unknown)}"
            )
        if not candidates:
            if self.store.count() == 0:
                warnings.append("the catalog is empty: ingest one first (babelrec ingest FILE)")
            else:
                warnings.append("no item in the catalog passes the filters")
        llm_on = self.settings.llm_on if use_llm is None else use_llm
        history = [s.item for s in self.store.get(user.history_ids).values()]
        candidates, calibrated = self.calibrate(user, candidates, history, k, warnings, timings)
        vectors = None
        if explain and candidates:  # evidence from the vectors, in the space that ranked them
            vectors = SpaceVectors(self.store, self.embedder, self.language_space()[0])
        stage = self.generative.run(
            user, candidates, k=k, history=history, explain=explain, use_llm=llm_on, vectors=vectors
        )
        timings.update(stage.timings)
        explanations = stage.explanations or []
        if any(e.language != user.language for e in explanations):
            warnings.append(
                f"no {user.language!r} explanation templates: explanations the LLM did not word "
                "are in English"
            )
        items = [
            Recommendation(
                rank=pos,
                item=c.item,
                scores=c.scores,
                explanation=explanations[pos - 1] if pos <= len(explanations) else None,
                display=stage.displays[pos - 1] if pos <= len(stage.displays) else None,
            )
            for pos, c in enumerate(stage.candidates[:k], start=1)
        ]
        ranker = "bilinear" if not self.ranker.is_identity else "bilinear(identity)"
        ranker = "hybrid" if self.hybrid is not None else ranker
        ranker += calibrated
        timings["total"] = time.perf_counter() - started
        return RecommendationResult(
            user=user,
            items=items,
            ranker=f"{ranker}+{stage.reranker}" if stage.reranker else ranker,
            degraded=stage.degraded_reason is not None,
            degraded_reason=stage.degraded_reason,
            warnings=warnings,
            unknown_history=unknown,
            repairs=stage.repairs,
            timings=timings,
        )

    def calibrate(
        self,
        user: UserProfile,
        candidates: list[Candidate],
        history: list[Item],
        k: int,
        warnings: list[str],
        timings: dict[str, float],
    ) -> tuple[list[Candidate], str]:
        """The first-stage list re-ranked toward the user's languages and regions as openness
        sets them (its first max(k, rerank.top) places), and the stage's name for `ranker`;
        what calibration could not do goes to `warnings`."""
        config = self.settings.calibration
        if config.mode == "off" or not candidates:
            return candidates, ""
        started = time.perf_counter()
        size = config.size or max(k, self.settings.rerank.top)
        # shown by relevance a page of k at a time: the first k stay calibrated
        ordered, calibration = calibrate_candidates(
            user, candidates, history, config, size=size, page=k
        )
        warnings.extend(f"calibration: {note}" for note in calibration.notes)
        timings["calibrate"] = time.perf_counter() - started
        if not calibration.outcome.dimensions:
            return candidates, ""
        return ordered, f"+calibrated(openness={calibration.openness:g})"

    async def arecommend(
        self,
        user_or_text: UserProfile | str,
        k: int = 10,
        *,
        filters: Filters | None = None,
        explain: bool = True,
        language: str | None = None,
        use_llm: bool | None = None,
    ) -> RecommendationResult:
        """`recommend` without blocking the event loop (runs in a worker thread)."""
        return await asyncio.to_thread(
            self.recommend,
            user_or_text,
            k,
            filters=filters,
            explain=explain,
            language=language,
            use_llm=use_llm,
        )

    # -- what the chat agent and other faces use besides recommend ----------------------------

    def get_items(self, ids: Sequence[str], *, with_vectors: bool = False) -> dict[str, StoredItem]:
        """The stored items (and vectors) among `ids`; unknown ids are left out."""
        return self.store.get(ids, with_vectors=with_vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors for `texts` in the store's vector space."""
        return self.embedder.embed_queries(texts)
