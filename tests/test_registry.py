"""One `Registry` for every extension point; plugins register through entry points, exactly
like the built-ins, and are selected by name from settings and from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from babelrec.errors import ConfigError, DatasetError
from babelrec.llm import FakeLLM, build_llm
from babelrec.registry import ALL, CONVERTERS, EMBEDDERS, LLMS, RERANKERS, Registry
from babelrec.settings import Settings

PLUGIN = """
from babelrec.llm.fake import FakeLLM


def build(settings, cache_dir):
    return FakeLLM(retries=settings.retries, model="plugin-model")
"""


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Iterator[Path]:
    """A plugin distribution on sys.path: a module and a dist-info with an entry point."""
    (tmp_path / "babelrec_plugin_mine.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "babelrec_plugin_mine-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: babelrec-plugin-mine\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[babelrec.llms]\nmine = babelrec_plugin_mine:build\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    LLMS.refresh()
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("babelrec_plugin_mine", None)
    LLMS.refresh()


def test_builtins_come_from_entry_points() -> None:
    assert {"usem3", "e5", "sentence-transformers", "hashing"} <= set(EMBEDDERS.names())
    assert {"llama-cpp", "openai", "fake"} <= set(LLMS.names())
    assert {"verbalizer", "listwise", "pointwise", "identity"} <= set(RERANKERS.names())
    assert {"mind-zh", "mind-mixed", "kmrd", "ml100k"} <= set(CONVERTERS.names())
    for registry in ALL:
        assert all(registry.get(name) is not None for name in registry.names())


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown LLM backend 'gpt-9'; choose one of: none, "):
        Settings(llm={"backend": "gpt-9"})
    with pytest.raises(ConfigError, match="unknown reranker 'x'; choose one of: identity, "):
        Settings(rerank={"name": "x"})
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        CONVERTERS.get("nope")


def test_a_bad_target_is_a_config_error_naming_it() -> None:
    registry = Registry("thing", "babelrec.nothing-here")
    registry.register("broken", "no_such_module_xyz:build")
    with pytest.raises(ConfigError, match="'no_such_module_xyz:build', which cannot be imported"):
        registry.get("broken")


def test_a_plugin_registered_at_run_time_is_selected_by_name(tmp_path: Path) -> None:
    # Regression: Settings.llm was a Literal, so a registered backend failed validation.
    LLMS.register("scripted", lambda settings, cache_dir: FakeLLM())
    try:
        settings = Settings(data_dir=tmp_path, llm={"backend": "scripted"})
        assert isinstance(build_llm(settings.llm, tmp_path), FakeLLM)
        with pytest.warns(DeprecationWarning):
            assert Settings(llm="scripted").llm.backend == "scripted"
    finally:
        LLMS.unregister("scripted")
    with pytest.raises(ConfigError):
        Settings(llm={"backend": "scripted"})


def test_a_plugin_installed_through_an_entry_point_is_selected_from_settings(
    plugin_dir: Path, tmp_path: Path
) -> None:
    assert "mine" in LLMS.names()
    llm = build_llm(Settings(data_dir=tmp_path, llm={"backend": "mine"}).llm, tmp_path)
    assert llm is not None and llm.model_id == "plugin-model"


def test_a_plugin_installed_through_an_entry_point_is_selected_from_the_cli(
    plugin_dir: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "c.jsonl"
    catalog.write_text(
        "\n".join(
            json.dumps({"id": f"i{n}", "title": f"football story {n}", "language": "en"})
            for n in range(5)
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), *sys.path])}
    exe = str(Path(sys.executable).parent / "babelrec")
    common = ["--data-dir", str(tmp_path), "--embedder", "hashing"]
    run = subprocess.run(
        [exe, "ingest", str(catalog), *common], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    run = subprocess.run(
        [exe, "recommend", "--interests", "football", "--llm", "mine", "-k", "2", "--json",
         "--reranker", "listwise", *common],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["ranker"].endswith("listwise(plugin-model)")
