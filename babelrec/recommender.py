"""`Recommender`: the pipeline behind the CLI, the agent and the Python API.

retrieve (Chroma, by user vector and filters) -> first ranking (bilinear) -> optional LLM
rerank and explanations. Each stage's score is kept on every result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from babelrec.agent.pipeline import GenerativeStage
from babelrec.errors import RankerError
from babelrec.models import (
    Candidate,
    Filters,
    Recommendation,
    RecommendationResult,
    StageScores,
    UserProfile,
)
from babelrec.retrieval.agnostic import agnostic_query, searched_languages, store_space
from babelrec.retrieval.bilinear import BilinearRanker
from babelrec.retrieval.embedders import Embedder, build_embedder
from babelrec.retrieval.ingest import IngestSummary, ingest_file
from babelrec.retrieval.store import VectorStore
from babelrec.retrieval.users import build_user_vector
from babelrec.settings import Settings

if TYPE_CHECKING:
    from babelrec.agent.chat.state import ChatReply

logger = logging.getLogger(__name__)

BILINEAR_FILE = "bilinear.npz"


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
        self._generative: GenerativeStage | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> Recommender:
        """Build every component from settings (environment `BABELREC_*`, then `overrides`)."""
        if settings is None:
            settings = Settings(**overrides)
        elif overrides:
            settings = Settings(**{**settings.model_dump(exclude_unset=True), **overrides})
        embedder = build_embedder(
            settings.embedder,
            settings.embedder_model,
            cache_dir=settings.cache_dir / "embeddings" if settings.embedding_cache else None,
            batch_size=settings.batch_size,
        )
        store = VectorStore.open(
            embedder_name=embedder.name,
            dimension=embedder.dimension,
            store_path=settings.resolved_store_path,
            chroma_url=settings.chroma_url,
            collection=settings.collection,
            data_dir=settings.data_dir,
        )
        return cls(settings, embedder, store)

    # -- catalog ---------------------------------------------------------------------------

    def ingest(
        self, path: str | Path, *, strict: bool = False, progress: bool = False
    ) -> IngestSummary:
        """Add or update the items of a JSONL/CSV catalog (see `babelrec.retrieval.ingest`)."""
        return ingest_file(Path(path), self.store, self.embedder, strict=strict, progress=progress)

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

    def item_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored items' vectors in the space the first stage ranks in (for training W)."""
        stored = self.store.get(ids, with_vectors=True)
        found = {i: s for i, s in stored.items() if s.vector is not None}
        if not found:
            return {}
        space, _ = store_space(
            self.store, self.settings.language_space, shrinkage=self.settings.language_shrinkage
        )
        keys = list(found)
        matrix = space.transform(
            np.stack([found[i].vector for i in keys]),  # type: ignore[misc]
            [found[i].item.language for i in keys],
        )
        if space.is_identity:  # raw vectors as stored, as before spaces existed
            return {i: found[i].vector for i in keys}  # type: ignore[misc]
        return dict(zip(keys, matrix, strict=True))

    def profile_for(
        self, user_or_text: UserProfile | str, language: str | None = None
    ) -> UserProfile:
        """A free-text request becomes a profile whose interests are the text."""
        if isinstance(user_or_text, UserProfile):
            return user_or_text
        if language is None:
            from babelrec.retrieval.langid import detect_language

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
        """Retrieve and bilinear-rank candidates; returns them (best first) and unknown ids."""
        timings = timings if timings is not None else {}
        started = time.perf_counter()
        space, stats = store_space(
            self.store, self.settings.language_space, shrinkage=self.settings.language_shrinkage
        )
        agnostic = not space.is_identity
        if self.settings.language_space != "none" and stats is None and self.store.count():
            logger.warning(
                "this store has no language statistics, so ranking uses raw vectors: "
                "run `babelrec migrate` once"
            )
        user_vec = build_user_vector(
            user,
            self.store,
            self.embedder,
            interest_weight=self.settings.interest_weight,
            half_life_days=self.settings.history_half_life_days,
            space=space if agnostic else None,
        )
        timings["user_vector"] = time.perf_counter() - started

        started = time.perf_counter()
        want = n or self.settings.candidates
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
        if hits:
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
            warnings.append("no item in the catalog passes the filters")
        llm_on = self.settings.llm != "none" if use_llm is None else use_llm
        history = [s.item for s in self.store.get(user.history_ids).values()]
        stage = self.generative.run(
            user, candidates, k=k, history=history, explain=explain, use_llm=llm_on
        )
        timings.update(stage.timings)
        explanations = stage.explanations or []
        items = [
            Recommendation(
                rank=pos,
                item=c.item,
                scores=c.scores,
                explanation=explanations[pos - 1] if pos <= len(explanations) else None,
            )
            for pos, c in enumerate(stage.candidates[:k], start=1)
        ]
        ranker = "bilinear" if not self.ranker.is_identity else "bilinear(identity)"
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

    @property
    def generative(self) -> GenerativeStage:
        """LLM rerank and explanations; the LLM loads on first use."""
        if self._generative is None:
            self._generative = GenerativeStage(self.settings)
        return self._generative

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

    def chat(self, session_id: str, message: str) -> ChatReply:
        """One turn of a conversation (see `babelrec.agent.chat`); sessions persist under
        `data_dir`, so a new process continues where the last one stopped."""
        from babelrec.agent.chat.agent import ChatAgent

        agent = self.__dict__.get("_chat_agent")
        if agent is None:
            agent = self.__dict__["_chat_agent"] = ChatAgent(self)
        reply: ChatReply = agent.respond(session_id, message)
        return reply
