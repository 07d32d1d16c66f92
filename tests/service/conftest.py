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
from tests.conftest import free_port, running_server

ITEMS = [
    ("en-foot", "Cup final ends in a penalty shootout", "en", "GB", "sports"),
    ("en-foot2", "Football: the league title race tightens", "en", "US", "sports"),
    ("en-chip", "New chip plant opens in Arizona", "en", "US", "technology"),
    ("zh-foot", "足球联赛决赛吸引五万观众", "zh", "CN", "sports"),
    ("zh-foot2", "中国足球队备战亚洲杯", "zh", "CN", "sports"),
    ("zh-chip", "国产芯片工厂投产", "zh", "CN", "technology"),
    ("ko-chip", "반도체 수출 역대 최대", "ko", "KR", "technology"),
    ("ar-foot", "منتخب مصر يفوز في كرة القدم", "ar", "EG", "sports"),
    ("es-food", "Los tacos al pastor conquistan Madrid", "es", "ES", "food"),
    ("xss", "<img src=x onerror=alert(1)> football", "en", "US", "sports"),
]


def write_catalog(path: Path) -> Path:
    rows = [
        {"id": i, "title": t, "language": lang, "region": r, "category": c}
        for i, t, lang, r, c in ITEMS
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
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
