"""The domain: items, users, candidates and ranked results, as strict pydantic models. Every
model forbids unknown fields, so a typo in a catalog row or a user file fails loudly."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from babelrec.display_types import Display
from babelrec.evidence import Evidence

MetadataValue = str | int | float | bool

#: The optional fields of an `Item` and what `null` (absent) means for each.
_ABSENT: dict[str, Any] = {
    "text": "",
    "tags": list,
    "keywords": list,
    "metadata": dict,
    "translations": dict,
}


class Strict(BaseModel):
    """Base for babelrec's models: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


def _utf8_only(value: Any, where: str = "") -> None:
    """Raise when a string in `value` holds a lone surrogate (Python's json reads one from an
    escape like "\\ud800"): UTF-8, and so JSON, Chroma and every file babelrec writes, cannot."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = value[exc.start : exc.end]
            raise ValueError(
                f"{where or 'a string'} holds a lone surrogate {bad!r}, which UTF-8 cannot store"
            ) from None
    elif isinstance(value, dict):
        for key, inner in value.items():
            _utf8_only(key, f"{where} key".strip())
            _utf8_only(inner, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for inner in value:
            _utf8_only(inner, where)


def _python_input_utf8_only(data: Any, info: ValidationInfo) -> None:
    """`_utf8_only` on a model's whole input, unless it came as JSON: pydantic's JSON parser
    refuses lone surrogates itself (escaped or raw), and stored items are read on every query."""
    if info.mode != "json":
        _utf8_only(data)


def _lower_code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value.lower() or None


#: How Chinese is written: Simplified or Traditional (ISO 15924 codes, as in BCP 47 tags).
ChineseScript = Literal["Hans", "Hant"]
#: Chinese region subtags whose likely script is Traditional (CLDR likely subtags).
_TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})


def split_language_tag(tag: str) -> tuple[str, ChineseScript | None]:
    """A BCP 47 tag as (language, Chinese script): "zh-Hant" and "zh-TW" -> ("zh", "Hant"),
    "zh-Hans" and "zh-CN" -> ("zh", "Hans"), "en-US" -> ("en", None), "zh" -> ("zh", None)."""
    language, *subtags = tag.strip().replace("_", "-").lower().split("-")
    if language != "zh" or not subtags:
        return language, None
    if "hans" in subtags:
        return language, "Hans"
    if "hant" in subtags or any(s in _TRADITIONAL_REGIONS for s in subtags):
        return language, "Hant"
    return language, "Hans"


class Translation(Strict):
    """The item's title and text in another language (e.g. a human or machine translation)."""

    title: str = Field(min_length=1)
    text: str = ""

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, data: Any, info: ValidationInfo) -> Any:
        _python_input_utf8_only(data, info)
        return data

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    def embedding_text(self) -> str:
        """The same shape of text as `Item.embedding_text`, in this language."""
        return f"{self.title}. {self.text}".strip() if self.text else self.title


class Item(Strict):
    """A catalog item (news story, film, product) with text in any language."""

    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1)
    text: str = ""
    language: str | None = Field(default=None, description="ISO 639-1 code, e.g. 'zh'.")
    region: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code of origin.")
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(
        default_factory=list,
        description="Key phrases of the item's text, computed at ingest when not given.",
    )
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    translations: dict[str, Translation] = Field(
        default_factory=dict,
        description="The same item in other languages, keyed by ISO 639-1 code "
        '(e.g. {"en": {"title": ..., "text": ...}}); never the item\'s own language.',
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any, info: ValidationInfo) -> Any:
        """`null` means "absent" for every optional field, for list entries and metadata values
        alike, so exports that write null for a missing abstract keep their items; and no
        string may hold a lone surrogate (one model-level pass: per-field validators cost a
        call from pydantic-core each, on every stored item every query reads)."""
        if not isinstance(data, dict):
            return data
        _python_input_utf8_only(data, info)
        out = dict(data)
        for key, absent in _ABSENT.items():
            if key in out and out[key] is None:
                out[key] = absent() if callable(absent) else absent
        if isinstance(out.get("tags"), list):
            out["tags"] = [tag for tag in out["tags"] if tag is not None]
        if isinstance(out.get("metadata"), dict):
            out["metadata"] = {k: v for k, v in out["metadata"].items() if v is not None}
        return out

    @field_validator("metadata")
    @classmethod
    def _finite(cls, value: dict[str, MetadataValue]) -> dict[str, MetadataValue]:
        """NaN and infinity have no JSON form, so the store could not read them back: they
        are refused here, at the door, not on some later request."""
        for key, number in value.items():
            if isinstance(number, float) and not math.isfinite(number):
                raise ValueError(
                    f"{key!r} is {number}, which JSON cannot hold; use a finite number, or null "
                    "to leave it out"
                )
        return value

    @field_validator("id", "title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("language", "category")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return _lower_code(value)

    @field_validator("region")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        lowered = _lower_code(value)
        return lowered.upper() if lowered else None

    @field_validator("translations", mode="before")
    @classmethod
    def _lower_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            keys = [_lower_code(str(k)) for k in value]
            if any(k is None for k in keys):
                raise ValueError("translation languages must be non-blank ISO 639-1 codes")
            return dict(zip(keys, value.values(), strict=True))
        return value

    @model_validator(mode="after")
    def _translation_not_own_language(self) -> Item:
        if self.language is not None and self.language in self.translations:
            raise ValueError(
                f"translations must be in other languages than the item's own ({self.language!r})"
            )
        return self

    def embedding_text(self) -> str:
        """The text that represents the item to an embedder: title, then the body if any."""
        return f"{self.title}. {self.text}".strip() if self.text else self.title

    def in_language(self, language: str) -> Item:
        """The same item shown with its `language` translation (its own text becomes one)."""
        code = _lower_code(language)
        if code is None or code not in self.translations:
            raise KeyError(f"item {self.id!r} has no {language!r} translation")
        other = self.translations[code]
        translations = {k: v for k, v in self.translations.items() if k != code}
        if self.language is not None:
            translations[self.language] = Translation(title=self.title, text=self.text)
        return self.model_copy(
            update={
                "title": other.title,
                "text": other.text,
                "language": code,
                "translations": translations,
            }
        )

    def content_hash(self) -> str:
        """A hash of everything stored for the item; unchanged items are not re-embedded.

        Items without translations hash as they did before the field existed."""
        exclude = {"id"} if self.translations else {"id", "translations"}
        payload = self.model_dump_json(exclude=exclude)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


class HistoryEntry(Strict):
    """One item a user interacted with, optionally with when."""

    item_id: str = Field(min_length=1)
    timestamp: datetime | None = None


class UserProfile(Strict):
    """What babelrec knows of a user: locale, stated interests and interaction history."""

    id: str | None = None
    language: str = Field(
        default="en",
        description="The user's language (ISO 639-1); a BCP 47 tag such as zh-Hant or zh-TW is "
        "split into the language and `script`.",
    )
    script: ChineseScript | None = Field(
        default=None,
        description="For Chinese: Hans (Simplified) or Hant (Traditional); None means the "
        "script of the user's own words, else Simplified.",
    )
    region: str | None = None
    interests: str = Field(default="", description="Free text, in any language.")
    history: list[HistoryEntry] = Field(default_factory=list)
    openness: float | None = Field(
        default=None, ge=0, le=1, description="0: keep to own languages/regions, 1: explore."
    )

    @model_validator(mode="before")
    @classmethod
    def _split_tag(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("language"), str):
            language, script = split_language_tag(data["language"])
            if language:
                data = {**data, "language": language}
                if script and data.get("script") is None:
                    data["script"] = script
        return data

    @model_validator(mode="after")
    def _script_is_chinese(self) -> UserProfile:
        if self.script is not None and self.language != "zh":
            raise ValueError(f"script {self.script!r} applies to Chinese (zh) only")
        return self

    @field_validator("history", mode="before")
    @classmethod
    def _accept_bare_ids(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"item_id": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("language")
    @classmethod
    def _lower_language(cls, value: str) -> str:
        lowered = _lower_code(value)
        if not lowered:
            raise ValueError("must not be blank")
        return lowered

    @field_validator("region")
    @classmethod
    def _upper_region(cls, value: str | None) -> str | None:
        lowered = _lower_code(value)
        return lowered.upper() if lowered else None

    @property
    def history_ids(self) -> list[str]:
        return [entry.item_id for entry in self.history]


class Filters(Strict):
    """Hard constraints on candidates; each list means 'any of these'."""

    languages: list[str] | None = None
    regions: list[str] | None = None
    categories: list[str] | None = None
    exclude_categories: list[str] | None = None
    exclude_languages: list[str] | None = None

    @model_validator(mode="after")
    def _normalise(self) -> Filters:
        for name in ("languages", "categories", "exclude_categories", "exclude_languages"):
            values = getattr(self, name)
            if values is not None:
                setattr(self, name, [v.strip().lower() for v in values if v.strip()])
        if self.regions is not None:
            self.regions = [v.strip().upper() for v in self.regions if v.strip()]
        return self

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


class StageScores(Strict):
    """A candidate's score at each stage; `final` decides the order."""

    retrieval: float = Field(description="Cosine similarity of user and item vectors.")
    bilinear: float | None = Field(default=None, description="R(u,i) = sum_j w_ij u_j i_j.")
    hybrid: float | None = Field(
        default=None, description="Fused content, collaborative and popularity score."
    )
    llm: float | None = Field(default=None, description="Normalised LLM reranker score.")
    final: float


class Candidate(Strict):
    """An item that came back from retrieval, with its scores so far."""

    item: Item
    scores: StageScores


class Explanation(Strict):
    """Why an item was recommended, in the user's language."""

    text: str
    language: str
    source: Literal["llm", "template"]
    matched_interests: list[str] = Field(default_factory=list)
    matched_history: list[str] = Field(default_factory=list)
    cultural_note: str | None = None
    evidence: list[Evidence] = Field(default_factory=list, description="What it rests on.")


class Recommendation(Strict):
    """One ranked pick."""

    rank: int = Field(ge=1)
    item: Item
    scores: StageScores
    explanation: Explanation | None = None
    display: Display | None = Field(default=None, description="The item in the user's language.")


class RepairCounts(Strict):
    """How much an LLM's output had to be fixed before use."""

    invalid_ids: int = 0
    duplicates: int = 0
    missing_appended: int = 0
    history_removed: int = 0
    retries: int = 0

    @property
    def total(self) -> int:
        return sum(int(getattr(self, name)) for name in type(self).model_fields)


class RecommendationResult(Strict):
    """A ranked list for one user, with how it was made and anything that went wrong."""

    user: UserProfile
    items: list[Recommendation]
    ranker: str = Field(description="The stages that produced the order, e.g. 'bilinear'.")
    degraded: bool = False
    degraded_reason: str | None = None
    warnings: list[str] = Field(default_factory=list)
    unknown_history: list[str] = Field(default_factory=list)
    repairs: RepairCounts | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
