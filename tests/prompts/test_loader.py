from __future__ import annotations

from pathlib import Path

import pytest

from babelrec.errors import PromptError
from babelrec.prompts.loader import LOCALES, PLACEHOLDERS, PromptLoader, placeholders

PURPOSES = ("rerank", "verbalizer", "pointwise", "explain")
CATEGORIES = [
    "sports",
    "technology",
    "culture",
    "business",
    "food",
    "travel",
    "entertainment",
    "health",
    "science",
]


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_shipped_template_loads_with_exactly_its_placeholders(
    purpose: str, locale: str
) -> None:
    template = PromptLoader().load(purpose, locale)  # type: ignore[arg-type]
    assert template.locale == locale and not template.fallback
    found = placeholders(template.system) | placeholders(template.user)
    assert found == PLACEHOLDERS[purpose]
    assert "<data>" in template.user and "</data>" in template.user


@pytest.mark.parametrize("locale", LOCALES)
def test_explain_templates_name_every_demo_category(locale: str) -> None:
    template = PromptLoader().load("explain", locale)
    assert set(CATEGORIES) <= set(template.categories)
    assert template.sentence("interest", interests="X")


def test_missing_locale_falls_back_to_english_asking_for_the_users_language() -> None:
    template = PromptLoader().load("explain", "fr")
    assert template.fallback and template.locale == "en"
    system, user = template.render(
        user_language="français", user_region="FR", interests="-", history="-", candidates=""
    )
    assert "français" in system + user


def _write(tmp_path: Path, body: str) -> PromptLoader:
    (tmp_path / "rerank.en.yaml").write_text(body, encoding="utf-8")
    return PromptLoader(tmp_path)


GOOD_USER = "{user_language}{user_region}{interests}{history}{candidates}{n}"


def test_missing_placeholder_is_an_error(tmp_path: Path) -> None:
    loader = _write(tmp_path, "purpose: rerank\nlocale: en\nsystem: s\nuser: '{candidates}'\n")
    with pytest.raises(PromptError, match="missing placeholder"):
        loader.load("rerank", "en")


def test_unknown_placeholder_is_an_error(tmp_path: Path) -> None:
    body = f"purpose: rerank\nlocale: en\nsystem: '{{secret}}'\nuser: '{GOOD_USER}'\n"
    with pytest.raises(PromptError, match="unknown placeholder"):
        _write(tmp_path, body).load("rerank", "en")


def test_malformed_placeholder_and_unknown_key_are_errors(tmp_path: Path) -> None:
    body = f"purpose: rerank\nlocale: en\nsystem: '{{oops'\nuser: '{GOOD_USER}'\n"
    with pytest.raises(PromptError, match="malformed"):
        _write(tmp_path, body).load("rerank", "en")
    body = f"purpose: rerank\nlocale: en\nsystem: s\nuser: '{GOOD_USER}'\nsystm: typo\n"
    with pytest.raises(PromptError, match="systm"):
        _write(tmp_path, body).load("rerank", "en")


def test_a_missing_file_names_the_template(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match=r"rerank\.en\.yaml"):
        PromptLoader(tmp_path).load("rerank", "xx")
