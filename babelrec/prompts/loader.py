"""Prompt templates: YAML files `<purpose>.<locale>.yaml` in this folder, checked when loaded.

Each purpose declares the placeholders its templates must use (and may use nothing else), parsed
with `string.Formatter`. A locale without a file falls back to English; the English templates
ask for the answer in `{user_language}`, so the user still gets their language.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from babelrec.errors import PromptError

Purpose = Literal["rerank", "verbalizer", "pointwise", "explain", "summary", "translate"]
FALLBACK_LOCALE = "en"
LOCALES = ("zh", "en", "es", "ja", "ko", "ar")

_USER = {"user_language", "user_region", "interests", "history"}
#: Placeholders each purpose's system + user text must contain, and the only ones allowed.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "rerank": frozenset(_USER | {"candidates", "n"}),
    "verbalizer": frozenset(_USER | {"candidates", "last_label"}),
    "pointwise": frozenset(_USER | {"candidate"}),
    "explain": frozenset(_USER | {"candidates"}),
    "summary": frozenset({"language", "pivot_language", "title", "text"}),
    "translate": frozenset({"source_language", "target_language", "text"}),
}
#: The grounded sentences of explanations: required placeholders of each (explain only).
EXPLAIN_SENTENCES: dict[str, frozenset[str]] = {
    "interest": frozenset({"interests"}),
    "history": frozenset({"history"}),
    "category": frozenset({"category"}),
    "origin": frozenset({"origin"}),
    "origin_share": frozenset({"origin", "share"}),
    "origin_new": frozenset({"origin"}),
    "language": frozenset({"language"}),
    "language_share": frozenset({"language", "share"}),
    "language_new": frozenset({"language"}),
    "holiday": frozenset({"holiday", "origin"}),
}


def placeholders(text: str) -> set[str]:
    """The field names of a `str.format` template (raises ValueError on a malformed one)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


class PromptTemplate(BaseModel):
    """One purpose in one locale: chat messages to fill, plus fixed grounded sentences."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: Purpose
    locale: str
    system: str
    user: str
    answer_prefix: str = Field(default="", description="Start of the answer (logprob modes).")
    answer_options: dict[str, str] = Field(default_factory=dict, description="e.g. yes/no.")
    sentences: dict[str, str] = Field(default_factory=dict)
    categories: dict[str, str] = Field(default_factory=dict)
    regions: dict[str, str] = Field(default_factory=dict)
    languages: dict[str, str] = Field(default_factory=dict, description="Language names.")
    fallback: bool = Field(default=False, description="Loaded for another locale (English).")

    def render(self, **values: Any) -> tuple[str, str]:
        """The (system, user) texts, with every placeholder filled."""
        return self.system.format(**values), self.user.format(**values)

    def sentence(self, name: str, **values: str) -> str:
        return self.sentences[name].format(**values)

    def validate_placeholders(self, source: str) -> None:
        required = PLACEHOLDERS[self.purpose]
        try:
            found = placeholders(self.system) | placeholders(self.user)
            if placeholders(self.answer_prefix):
                raise PromptError(f"{source}: answer_prefix must be plain text")
            sentence_fields = {k: placeholders(v) for k, v in self.sentences.items()}
        except ValueError as exc:
            raise PromptError(f"{source}: malformed placeholder: {exc}") from exc
        if missing := required - found:
            raise PromptError(f"{source}: missing placeholder(s) {sorted(missing)}")
        if unknown := found - required:
            raise PromptError(
                f"{source}: unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(required)}"
            )
        if self.purpose == "explain":
            if missing_names := set(EXPLAIN_SENTENCES) - set(self.sentences):
                raise PromptError(f"{source}: missing sentence(s) {sorted(missing_names)}")
            for name, fields in sentence_fields.items():
                allowed = EXPLAIN_SENTENCES.get(name)
                if allowed is None or fields != allowed:
                    raise PromptError(
                        f"{source}: sentence {name!r} must use exactly {sorted(allowed or ())}"
                    )
        if self.purpose == "pointwise" and set(self.answer_options) != {"yes", "no"}:
            raise PromptError(f"{source}: pointwise needs answer_options yes and no")


class PromptLoader:
    """Loads, validates and caches templates from a directory (default: this package)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or Path(str(resources.files("babelrec.prompts")))

    def path(self, purpose: str, locale: str) -> Path:
        return self.directory / f"{purpose}.{locale}.yaml"

    def load(self, purpose: Purpose, locale: str) -> PromptTemplate:
        """The template for `locale`, or the English one marked `fallback=True`."""
        locale = (locale or FALLBACK_LOCALE).lower()
        path = self.path(purpose, locale)
        if not path.is_file():
            template = self._read(self.path(purpose, FALLBACK_LOCALE), purpose)
            return template.model_copy(update={"fallback": locale != FALLBACK_LOCALE})
        return self._read(path, purpose)

    def _read(self, path: Path, purpose: Purpose) -> PromptTemplate:
        return _read_template(path, purpose, path.stat().st_mtime if path.exists() else 0.0)


@lru_cache(maxsize=128)
def _read_template(path: Path, purpose: Purpose, mtime: float) -> PromptTemplate:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromptError(f"no prompt template {path.name} in {path.parent}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"cannot read prompt template {path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise PromptError(f"{path}: a prompt template is a YAML mapping")
    try:
        template = PromptTemplate.model_validate(data)
    except ValidationError as exc:
        raise PromptError(f"{path}: {exc}") from exc
    if template.purpose != purpose:
        raise PromptError(f"{path}: declares purpose {template.purpose!r}, expected {purpose!r}")
    template.validate_placeholders(str(path))
    return template
