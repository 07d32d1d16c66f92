"""One error tree for babelrec: every failure a user can cause or meet is a `BabelrecError`.

Messages say what went wrong and what to do about it; the CLI prints them as one line.
"""

from __future__ import annotations


class BabelrecError(Exception):
    """Base of every error babelrec raises on purpose."""


class ConfigError(BabelrecError):
    """A setting or experiment file is invalid or inconsistent."""


class CatalogError(BabelrecError):
    """A catalog file cannot be read, or (with strict ingest) has bad rows."""


class EmbedderError(BabelrecError):
    """An embedder cannot be built or returned unusable vectors."""


class EmbeddingMismatchError(EmbedderError):
    """Vectors of one embedder were about to be mixed with those of another."""


class StoreError(BabelrecError):
    """The vector store is unreachable, or an operation on it failed (and was rolled back)."""


class UnknownUserError(BabelrecError):
    """A user id was asked for that the data does not know."""


class EmptyProfileError(BabelrecError):
    """A user has neither usable history nor interests, so there is nothing to rank for."""


class RankerError(BabelrecError):
    """A ranker was used before it was trained, or with weights of the wrong shape."""


class LLMError(BabelrecError):
    """An LLM backend is unreachable, timed out, or produced output that could not be used."""


class LLMUnavailableError(LLMError):
    """The LLM could not be reached or loaded."""


class LLMOutputError(LLMError):
    """The LLM answered, but its output could not be validated or repaired.

    Carries the number of attempts and the last raw output, for debugging.
    """

    def __init__(self, message: str, *, attempts: int = 1, raw: str | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.raw = raw


class PromptError(BabelrecError):
    """A prompt template file is missing or has wrong placeholders."""


class DatasetError(BabelrecError):
    """An evaluation dataset is missing, malformed, or cannot be converted."""


class CrawlError(BabelrecError):
    """A page, feed or sitemap could not be fetched or used; the crawl reports it and goes on."""
