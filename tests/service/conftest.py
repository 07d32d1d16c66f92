"""A service over a small hashing-embedded store: in-process (TestClient) and as a real
`babelrec serve` process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from babelrec.pipeline.recommender import Recommender
from babelrec.service import create_app
from babelrec.settings import Settings
from tests.conftest import SMALL_CATALOG, free_port, running_server
from tests.conftest import write_catalog as write_small_catalog

ITEMS = [
    *SMALL_CATALOG,
    ("en-foot2", "Football: the league title race tightens", "en", "US", "sports"),
    ("zh-foot2", "中国足球队备战亚洲杯", "zh", "CN", "sports"),
    ("ar-foot", "منتخب مصر يفوز في كرة القدم", "ar", "EG", "sports"),
    ("xss", "<img src=x onerror=alert(1)> football", "en", "US", "sports"),
]


#: An English item whose catalog row carries its Chinese text: Chinese readers see that.
TRANSLATED = {
    "id": "en-cup",
    "title": "Football: the cup final line-up is set",
    "text": "The two clubs meet on Saturday. Tickets sold out.",
    "language": "en",
    "region": "GB",
    "category": "sports",
    "translations": {
        "zh": {"title": "足球：杯赛决赛对阵出炉", "text": "两支球队将在周六对决。球票已售罄。"}
    },
}


def write_catalog(path: Path) -> Path:
    write_small_catalog(path, ITEMS)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(TRANSLATED, ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def service_settings(tmp_path: Path) -> Settings:
    settings = Settings(
        data_dir=tmp_path, embedder={"name": "hashing", "cache": False}, llm={"backend": "none"}
    )
    Recommender.from_settings(settings).ingest(write_catalog(tmp_path / "catalog.jsonl"))
    return settings


@pytest.fixture
def client(service_settings: Settings) -> TestClient:
    return TestClient(create_app(Recommender.from_settings(service_settings)))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`babelrec serve` as a real process on 127.0.0.1 over a hashing store; yields its URL."""
    base = tmp_path_factory.mktemp("served")
    exe = str(Path(sys.executable).parent / "babelrec")
    common = ["--data-dir", str(base), "--embedder", "hashing"]
    import subprocess

    subprocess.run(
        [exe, "ingest", str(write_catalog(base / "catalog.jsonl")), *common],
        check=True,
        capture_output=True,
        env={**os.environ, "BABELREC_LLM__BACKEND": "none"},
    )
    port = free_port()
    command = [exe, "serve", *common, "--llm", "none", "--port", str(port)]
    with running_server(command, port, base / "serve.log", timeout=60):
        yield f"http://127.0.0.1:{port}"
