"""A bounded load run on 127.0.0.1: 200 requests from 16 concurrent clients without the LLM,
and 20 with the real local model; no errors and no mixed-up sessions."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from babelrec.service.loadtest import run_load
from tests.conftest import free_port, running_server
from tests.service.conftest import write_catalog

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_loopback_only() -> None:
    with pytest.raises(ValueError, match="only target this machine"):
        run_load("http://10.0.0.1:8000", requests=1, clients=1)


def test_200_requests_from_16_clients_without_the_llm(served: str) -> None:
    result = run_load(served, requests=200, clients=16)
    print(f"no LLM: {result.model_dump_json()}")
    assert result.requests == 200 and result.errors == 0 and result.mixed_sessions == 0


@pytest.fixture(scope="module")
def served_with_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`babelrec serve` with the default local LLM (packaged gemma3) over a hashing store."""
    import subprocess

    base = tmp_path_factory.mktemp("served-llm")
    exe = str(Path(sys.executable).parent / "babelrec")
    common = ["--data-dir", str(base), "--embedder", "hashing"]
    env = {**os.environ, "BABELREC_LLM__CACHE": "false", "BABELREC_LLM__THREADS": "2"}
    subprocess.run(
        [exe, "ingest", str(write_catalog(base / "catalog.jsonl")), *common],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    port = free_port()
    command = [exe, "serve", *common, "--llm", "llama-cpp", "--port", str(port)]
    with running_server(command, port, base / "serve.log", timeout=120, env=env):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.llm
def test_20_requests_with_the_llm(served_with_llm: str) -> None:
    result = run_load(served_with_llm, requests=20, clients=4, use_llm=True, timeout=300)
    print(f"with LLM: {result.model_dump_json()}")
    assert result.requests == 20 and result.errors == 0 and result.mixed_sessions == 0
