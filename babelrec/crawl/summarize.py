"""Optional LLM summaries of crawled items, in the item's language and in a pivot language.

Off by default (`CrawlOptions.summarize`). Answers are structured (`Summaries`) and cached by the
LLM's response cache, keyed by model, prompt and text, so a re-crawl of unchanged text costs no
generation. A summary that fails leaves its item without one; the crawl goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import Field

from babelrec.errors import LLMError
from babelrec.llm.base import LLM, ChatMessage, GenerationParams
from babelrec.llm.prompting import language_name
from babelrec.models import Item, Strict
from babelrec.prompts.loader import PromptLoader

logger = logging.getLogger(__name__)

MAX_INPUT_CHARS = 3000  # the packaged models have 4k-token contexts
PARAMS = GenerationParams(max_tokens=300, temperature=0.0)


class Summaries(Strict):
    """What the LLM must answer: one summary per language."""

    summary: str = Field(min_length=1, max_length=1000)
    pivot_summary: str = Field(min_length=1, max_length=1000)


def summary_messages(
    item: Item, pivot: str, loader: PromptLoader | None = None
) -> list[ChatMessage]:
    template = (loader or PromptLoader()).load("summary", "en")
    system, user = template.render(
        language=language_name(item.language or pivot),
        pivot_language=language_name(pivot),
        title=item.title,
        text=item.text[:MAX_INPUT_CHARS],
    )
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


def summarize(items: Sequence[Item], llm: LLM, pivot: str = "en") -> tuple[list[Item], list[str]]:
    """`items` with `metadata["summary"]` and `metadata["summary_<pivot>"]` added, and the
    errors of the items that got none."""
    loader = PromptLoader()
    out: list[Item] = []
    errors: list[str] = []
    for item in items:
        try:
            answer = llm.complete_structured(
                summary_messages(item, pivot, loader), Summaries, params=PARAMS
            )
        except LLMError as exc:
            logger.info("no summary for %s: %s", item.id, exc)
            errors.append(f"{item.id}: {exc}")
            out.append(item)
            continue
        metadata = {**item.metadata, "summary": answer.summary.strip()}
        metadata[f"summary_{pivot}"] = (
            answer.summary.strip()
            if (item.language or pivot) == pivot
            else answer.pivot_summary.strip()
        )
        out.append(item.model_copy(update={"metadata": metadata}))
    return out, errors
