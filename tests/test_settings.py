"""Settings: nested groups, one default per knob, environment `BABELREC_<GROUP>__<FIELD>`, and
babelrec 0.1's flat names for one more release, with a warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from babelrec.rerank import RerankConfig
from babelrec.settings import LEGACY_NAMES, Settings


def test_groups_read_the_nested_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABELREC_LLM__URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("BABELREC_RERANK__TOP", "7")
    monkeypatch.setenv("BABELREC_EMBEDDER__E5_RUNTIME", "torch")
    monkeypatch.setenv("BABELREC_EVAL__DATA_DIR", "/data/x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = Settings()
    assert settings.llm.url == "http://127.0.0.1:9/v1" and settings.rerank.top == 7
    assert settings.embedder.e5_runtime == "torch"
    assert settings.eval.data_dir == Path("/data/x")


@pytest.mark.parametrize(
    ("old", "value", "group", "field", "expected"),
    [
        ("BABELREC_LLM", "none", "llm", "backend", "none"),
        ("BABELREC_LLM_URL", "http://x/v1", "llm", "url", "http://x/v1"),
        ("BABELREC_RERANK_TOP", "9", "rerank", "top", 9),
        ("BABELREC_FUSION_ALPHA", "0.5", "rerank", "alpha", 0.5),
        ("BABELREC_E5_RUNTIME", "torch", "embedder", "e5_runtime", "torch"),
        ("BABELREC_EVAL_DATA", "/data/y", "eval", "data_dir", Path("/data/y")),
        ("BABELREC_CHAT_AGENT", "rules", "chat", "agent", "rules"),
    ],
)
def test_old_flat_environment_names_still_work_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, old: str, value: str, group: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(old, value)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; use BABELREC_"):
        settings = Settings()
    assert getattr(getattr(settings, group), field) == expected


def test_old_keyword_names_still_work_with_a_warning(tmp_path: Path) -> None:
    for old, (group, field) in LEGACY_NAMES.items():
        value = getattr(getattr(Settings(), group), field)
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
            settings = Settings(data_dir=tmp_path, **{old: value})
        assert getattr(getattr(settings, group), field) == value


def test_openai_api_key_is_the_llm_key_and_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-123")
    settings = Settings()
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-canary-123"
    assert "sk-canary-123" not in repr(settings) and "sk-canary-123" not in str(settings)
    assert "sk-canary-123" not in settings.model_dump_json()


def test_typos_fail_at_load_time() -> None:
    with pytest.raises(ValueError, match="extra"):
        Settings(llm={"bakend": "none"})
    with pytest.raises(ValueError, match="extra"):
        Settings(no_such_knob=1)


def test_overrides_merge_into_groups(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path, llm={"backend": "none", "timeout": 5})
    merged = base.with_overrides(llm={"url": "http://127.0.0.1:1/v1"})
    assert merged.llm.backend == "none" and merged.llm.timeout == 5
    assert merged.llm.url == "http://127.0.0.1:1/v1" and merged.data_dir == tmp_path


def test_each_rerank_knob_has_one_default() -> None:
    # Regression: the verbalizer's calibration was off in RerankConfig and on in the settings.
    assert RerankConfig().calibrate is Settings().rerank.calibrate is True
    defaults = Settings().rerank.model_dump()
    assert {k: v for k, v in RerankConfig().model_dump().items() if k in defaults} == defaults
