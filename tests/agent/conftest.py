"""Session fixtures for the real-component LLM tests: each model and server starts once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from babelrec.agent.llm.local import LlamaCppLLM, packaged_model_path
from babelrec.settings import DEFAULT_CACHE_DIR
from tests.conftest import free_port, running_server


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    return packaged_model_path("gemma3", DEFAULT_CACHE_DIR)


@pytest.fixture(scope="session")
def local_llm(gemma_path: Path) -> Iterator[LlamaCppLLM]:
    """The default local model in-process, 2 threads, no response cache."""
    llm = LlamaCppLLM(gemma_path, n_ctx=2048, n_threads=2)
    yield llm
    llm.close()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on 127.0.0.1 with the packaged SmolLM2 (the smaller vocabulary
    keeps grammar-constrained decoding fast); yields the /v1 base URL."""
    model = packaged_model_path("smollm2", DEFAULT_CACHE_DIR)
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_threads", "2", "--n_ctx", "2048", "--model_alias", "smollm2",
    ]  # fmt: skip
    with running_server(command, port, log, timeout=120):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="session")
def agent_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A data dir holding the demo catalog embedded by the fast hashing embedder."""
    from babelrec.cli import demo_catalog_path
    from babelrec.recommender import Recommender
    from babelrec.settings import Settings

    base = tmp_path_factory.mktemp("agent-store")
    settings = Settings(data_dir=base, embedder="hashing", embedding_cache=False, llm="none")
    Recommender.from_settings(settings).ingest(demo_catalog_path())
    return str(base)
