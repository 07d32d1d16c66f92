from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from babelrec.llm import FakeLLM, build_llm, llm_names
from babelrec.llm.hosted import OpenAICompatibleLLM
from babelrec.llm.local import LlamaCppLLM
from babelrec.settings import Settings


def test_builtins_are_registered_by_name() -> None:
    assert {"llama-cpp", "openai", "fake"} <= set(llm_names())


def test_none_builds_nothing_and_fake_builds_the_fake(tmp_path: Path) -> None:
    assert build_llm(Settings(data_dir=tmp_path, llm={"backend": "none"}).llm, tmp_path) is None
    assert isinstance(
        build_llm(Settings(data_dir=tmp_path, llm={"backend": "fake"}).llm, tmp_path), FakeLLM
    )


def test_llama_cpp_takes_any_gguf_path_without_loading_it(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    llm = build_llm(
        Settings(data_dir=tmp_path, llm={"backend": "llama-cpp", "model_path": path}).llm, tmp_path
    )
    assert isinstance(llm, LlamaCppLLM) and llm.model_id == "model.gguf"
    assert llm.n_threads <= 2


def test_openai_key_comes_from_settings_or_environment_and_never_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    llm = build_llm(
        Settings(data_dir=tmp_path, llm={"backend": "openai", "url": "http://127.0.0.1:1/v1"}).llm,
        tmp_path,
    )
    assert isinstance(llm, OpenAICompatibleLLM)
    assert "sk-from-env" not in repr(llm) and "sk-from-env" not in repr(vars(llm))
    settings = Settings(
        data_dir=tmp_path, llm={"backend": "openai", "api_key": SecretStr("sk-set")}
    )
    assert "sk-set" not in repr(settings)


def test_a_known_model_by_name_is_its_installed_file_or_says_how_to_install(
    tmp_path: Path,
) -> None:
    from babelrec.errors import LLMUnavailableError
    from babelrec.llm.catalog import known_model

    settings = Settings(llm={"backend": "llama-cpp", "model": "deepseek-r1-distill-qwen-7b"})
    with pytest.raises(LLMUnavailableError, match="babelrec models install deepseek"):
        build_llm(settings.llm, tmp_path)
    installed = tmp_path / "models" / "deepseek-r1-distill-qwen-7b.gguf"
    installed.parent.mkdir()
    with installed.open("wb") as out:  # the size is what `installed` checks (sparse file)
        out.truncate(known_model("deepseek-r1-distill-qwen-7b").size or 0)
    llm = build_llm(settings.llm, tmp_path)
    assert isinstance(llm, LlamaCppLLM) and llm.model_path == installed
