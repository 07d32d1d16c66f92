"""Settings, read from the environment (prefix `BABELREC_`) and overridable by keyword.

Every default works offline: the embedded Chroma store lives under `data_dir`, the default
embedder and LLM ship inside PyPI packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CACHE_DIR = Path("~/.cache/babelrec").expanduser()


class Settings(BaseSettings):
    """Everything babelrec needs to build its components."""

    model_config = SettingsConfigDict(env_prefix="BABELREC_", extra="forbid")

    data_dir: Path = Field(default=Path("./.babelrec"), description="Where stores and state live.")
    store_path: Path | None = Field(
        default=None, description="Embedded Chroma directory; default: DATA_DIR/chroma."
    )
    chroma_url: str | None = Field(
        default=None,
        description="A Chroma server, e.g. http://127.0.0.1:8000; wins over store_path.",
    )
    collection: str = Field(default="babelrec-items", min_length=3, max_length=512)
    embedder: str = Field(default="usem3", description="Registry name of the embedder.")
    embedder_model: str | None = Field(
        default=None, description="Model path or name, for embedders that take one."
    )
    cache_dir: Path = Field(
        default=DEFAULT_CACHE_DIR,
        description="Embedding and LLM response caches, shared by clones.",
    )
    embedding_cache: bool = True
    batch_size: int = Field(default=64, ge=1)

    candidates: int = Field(default=100, ge=1, description="How many items retrieval returns.")
    interest_weight: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Weight of stated interests vs history."
    )
    language_space: Literal[
        "none", "center", "lsar", "center+lsar", "center+mean", "center+lsar+mean"
    ] = Field(
        default="center+lsar+mean",
        description="Remove the language signal from the vectors retrieval and the first "
        "ranking compare (babelrec.retrieval.language_space); 'none' uses raw vectors.",
    )
    language_shrinkage: float = Field(
        default=20.0,
        ge=0.0,
        description="Pseudo-items pulling a small language's mean toward the global mean.",
    )
    history_half_life_days: float | None = Field(
        default=None, gt=0, description="Time decay of history items; None weighs all alike."
    )

    llm: Literal["none", "llama-cpp", "openai", "fake"] = "llama-cpp"
    llm_model_path: Path | None = Field(default=None, description="A GGUF file for llama-cpp.")
    llm_url: str | None = Field(default=None, description="OpenAI-compatible base URL.")
    llm_model: str = Field(default="local", description="Model name sent to the hosted endpoint.")
    openai_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=60.0, gt=0)
    llm_retries: int = Field(default=1, ge=0)
    llm_threads: int | None = Field(default=None, ge=1)
    llm_schema_mode: Literal["auto", "json_schema", "json_object"] = Field(
        default="auto", description="Structured-output form for the openai backend."
    )
    llm_context: int = Field(default=4096, ge=512, description="llama.cpp context tokens.")
    llm_cache: bool = Field(default=True, description="Cache LLM answers under CACHE_DIR/llm.")
    llm_explanations: bool = Field(
        default=False,
        description="Let the LLM word explanations (checked; else templates). Off by default: "
        "the packaged models are slow at it and rarely pass the checks (docs/llm.md).",
    )
    reranker: Literal["listwise", "verbalizer", "pointwise", "identity"] = "verbalizer"
    rerank_top: int = Field(
        default=20, ge=1, description="How many first-stage items the LLM sees."
    )
    rerank_window: int = Field(default=10, ge=2, description="Listwise sliding-window size.")
    rerank_step: int = Field(default=5, ge=1, description="Listwise sliding-window step.")
    rerank_shuffles: int = Field(
        default=0, ge=0, description="Extra shuffled orderings fused against position bias."
    )
    rerank_fusion: Literal["rrf", "borda"] = "rrf"
    rerank_calibrate: bool = Field(
        default=True, description="Verbalizer: subtract the content-free label prior."
    )
    fusion_alpha: float = Field(default=0.3, ge=0.0, le=1.0)
    chat_agent: Literal["auto", "rules", "tools"] = Field(
        default="auto",
        description="Chat path: rules only, LLM tool calling (falls back to rules), or auto "
        "(tool calling when llm is openai).",
    )

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if not set(value) <= allowed or not (value[0].isalnum() and value[-1].isalnum()):
            raise ValueError(
                "a Chroma collection name is 3-512 characters of [a-zA-Z0-9._-], "
                "starting and ending with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        self.cache_dir = self.cache_dir.expanduser()
        if self.store_path is None:
            self.store_path = self.data_dir / "chroma"
        else:
            self.store_path = self.store_path.expanduser()
        return self

    @property
    def resolved_store_path(self) -> Path:
        assert self.store_path is not None  # set by _resolve_paths
        return self.store_path
