"""The LangChain adapters pass LangChain's own standard tests (langchain-tests), on a fast
hashing store and on the real default embedder."""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from babelrec.integrations.langchain import (
    BabelrecEmbeddings,
    BabelrecReranker,
    BabelrecRetriever,
)
from babelrec.llm import FakeLLM
from babelrec.models import UserProfile
from babelrec.pipeline.recommender import Recommender
from babelrec.rerank import RerankConfig, build_reranker
from babelrec.settings import Settings

ITEMS = [
    ("en-foot", "Cup final ends in a penalty shootout", "en", "GB", "sports"),
    ("en-chip", "New chip plant opens in Arizona", "en", "US", "technology"),
    ("zh-foot", "足球联赛决赛吸引五万观众", "zh", "CN", "sports"),
    ("zh-chip", "国产芯片工厂投产", "zh", "CN", "technology"),
    ("ko-chip", "반도체 수출 역대 최대", "ko", "KR", "technology"),
    ("es-food", "Los tacos al pastor conquistan Madrid", "es", "ES", "food"),
]


@cache
def small_recommender() -> Recommender:
    """Six items in a hashing-embedded store, built once per test session."""
    base = Path(tempfile.mkdtemp(prefix="babelrec-lc-"))
    catalog = base / "catalog.jsonl"
    rows = [
        {"id": i, "title": t, "language": lang, "region": r, "category": c}
        for i, t, lang, r, c in ITEMS
    ]
    catalog.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    settings = Settings(
        data_dir=base, embedder={"name": "hashing", "cache": False}, llm={"backend": "none"}
    )
    rec = Recommender.from_settings(settings)
    rec.ingest(catalog)
    return rec


class TestBabelrecRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return BabelrecRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"service": small_recommender()}

    @property
    def retriever_query_example(self) -> str:
        return "football"


class TestBabelrecEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return BabelrecEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": "hashing"}


class TestBabelrecEmbeddingsHashing(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return BabelrecEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": "hashing"}


@pytest.mark.slow
class TestBabelrecEmbeddingsUSEm3(EmbeddingsIntegrationTests):
    """The real default embedder (USE-multilingual v3)."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return BabelrecEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": "usem3"}


def test_retriever_documents_carry_item_facts_and_stage_scores() -> None:
    retriever = BabelrecRetriever(service=small_recommender(), k=3)
    docs = retriever.invoke("chip factory")
    assert len(docs) == 3
    for rank, doc in enumerate(docs, start=1):
        assert doc.metadata["rank"] == rank and doc.metadata["id"] == doc.id
        assert {"retrieval", "final"} <= set(doc.metadata["scores"])
        assert doc.metadata["language"] in {"en", "zh", "ko", "es"}


def test_retriever_takes_a_user_profile_through_its_config() -> None:
    retriever = BabelrecRetriever(service=small_recommender(), k=2)
    profile = UserProfile(language="zh", history=[{"item_id": "zh-chip"}])
    docs = retriever.invoke("", config={"configurable": {"user_profile": profile}})
    ids = [doc.id for doc in docs]
    assert "zh-chip" not in ids  # history is never recommended back
    assert len(ids) == 2


def test_reranker_reorders_by_the_llm_and_keeps_metadata() -> None:
    def prefer_tacos(messages: Any, options: Any) -> dict[str, float]:
        text = messages[-1].content
        label = next(
            line.split('label="')[1][0] for line in text.splitlines() if "tacos" in line.lower()
        )
        return {option: (0.0 if option == label else -5.0) for option in options}

    reranker = build_reranker(
        "verbalizer",
        FakeLLM(logprob_fn=prefer_tacos),
        RerankConfig(alpha=1.0, calibrate=False),
    )
    docs = [
        Document(page_content="Cup final ends in a penalty shootout", metadata={"id": "a"}),
        Document(page_content="New chip plant opens in Arizona", metadata={"id": "b"}),
        Document(page_content="Los tacos al pastor conquistan Madrid", metadata={"id": "c"}),
    ]
    out = BabelrecReranker(reranker=reranker, top_n=2).compress_documents(docs, "food")
    assert [d.metadata["id"] for d in out] == ["c", "a"]
    assert out[0].metadata["degraded"] is False and out[0].metadata["rerank_score"] == 1.0


def test_reranker_without_an_llm_keeps_the_incoming_order() -> None:
    reranker = build_reranker("verbalizer", None)
    docs = [Document(page_content=f"story {n}") for n in range(4)]
    out = BabelrecReranker(reranker=reranker, top_n=4).compress_documents(docs, "news")
    assert [d.page_content for d in out] == [f"story {n}" for n in range(4)]
    assert all(d.metadata["degraded"] for d in out)


@pytest.mark.slow
def test_a_langchain_chain_runs_over_the_adapters(demo_recommender: Recommender) -> None:
    from langchain_core.runnables import RunnableLambda

    retriever = BabelrecRetriever(service=demo_recommender, k=5)
    reranker = BabelrecReranker(reranker=build_reranker("identity", None), top_n=3)
    chain = retriever | RunnableLambda(lambda docs: reranker.compress_documents(docs, "football"))
    docs = chain.invoke("我喜欢足球")
    assert len(docs) == 3 and all(d.metadata["category"] == "sports" for d in docs[:2])
    embeddings = BabelrecEmbeddings(demo_recommender.embedder)
    query = embeddings.embed_query("足球")
    passage = embeddings.embed_documents([docs[0].page_content])[0]
    assert len(query) == len(passage) == demo_recommender.embedder.dimension
