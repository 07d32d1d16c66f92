"""The generative stage wired into `Recommender.recommend` and `babelrec recommend`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.llm import FakeLLM
from babelrec.models import UserProfile
from babelrec.pipeline.generative import GenerativeStage
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings
from tests.conftest import free_port

ZH = UserProfile(language="zh", region="CN", interests="我喜欢足球")


@pytest.fixture
def store_dir(agent_store: str) -> Path:
    return Path(agent_store)


def recommender(store_dir: Path, **overrides: object) -> Recommender:
    settings = Settings(
        data_dir=store_dir, embedder={"name": "hashing", "cache": False}, llm={"cache": False}
    )
    return Recommender.from_settings(settings, **overrides)


def test_recommend_reranks_and_explains_with_the_llm(store_dir: Path) -> None:
    rec = recommender(store_dir, llm={"backend": "fake"}, rerank={"name": "listwise", "alpha": 1.0})
    rec.generative = GenerativeStage(rec.settings, FakeLLM())
    result = rec.recommend(ZH, k=5)
    assert result.ranker.endswith("+listwise(fake)") and not result.degraded
    assert result.repairs is not None and result.repairs.total == 0
    assert {"rerank", "explain"} <= set(result.timings)
    assert all(r.explanation and r.explanation.language == "zh" for r in result.items)
    assert all(r.scores.llm is not None for r in result.items)


def test_without_the_llm_there_are_still_template_explanations(store_dir: Path) -> None:
    for rec, kwargs in (
        (recommender(store_dir, llm={"backend": "none"}), {}),
        (recommender(store_dir, llm={"backend": "fake"}), {"use_llm": False}),
    ):
        result = rec.recommend(ZH, k=3, **kwargs)  # type: ignore[arg-type]
        assert result.ranker == "bilinear(identity)" and not result.degraded
        assert all(r.explanation and r.explanation.source == "template" for r in result.items)
        assert all(r.scores.llm is None for r in result.items)
    assert (
        recommender(store_dir, llm={"backend": "none"})
        .recommend(ZH, k=2, explain=False)
        .items[0]
        .explanation
        is None
    )


def test_unreachable_hosted_llm_degrades_and_the_cli_exits_0(store_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    rec = recommender(store_dir, llm={"backend": "openai", "url": url, "timeout": 5})
    first_stage = recommender(store_dir, llm={"backend": "none"}).recommend(ZH, k=5)
    result = rec.recommend(ZH, k=5)
    assert result.degraded and "cannot reach" in (result.degraded_reason or "")
    assert [r.item.id for r in result.items] == [r.item.id for r in first_stage.items]
    assert all(r.explanation and r.explanation.source == "template" for r in result.items)

    args = ["recommend", "--interests", "我喜欢足球", "--lang", "zh", "-k", "3", "--json"]
    args += ["--llm", "openai", "--llm-url", url, "--data-dir", str(store_dir)]
    args += ["--embedder", "hashing"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout)
    assert payload["degraded"] is True and len(payload["items"]) == 3


def test_cli_no_llm_and_bad_backend_name(store_dir: Path) -> None:
    args = ["recommend", "--interests", "football", "-k", "2", "--json", "--no-llm"]
    args += ["--data-dir", str(store_dir), "--embedder", "hashing"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0 and json.loads(run.stdout)["ranker"] == "bilinear(identity)"
    run = CliRunner().invoke(app, [*args[:-4], "--llm", "gpt-9", *args[-4:]])
    assert run.exit_code == 1
