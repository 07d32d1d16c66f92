"""`babelrec translate`: machine translations of the whole store, for display at request time."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console, err_console, llm_overrides
from babelrec.cli.recommend import LLMModelOpt, LLMOpt, LLMUrlOpt
from babelrec.errors import ConfigError


@command(app)
def translate(
    opts: CommonOptions,
    to: Annotated[
        str, typer.Option("--to", help="Target languages, comma-separated (ISO 639-1).")
    ] = "zh,en,es",
    llm: LLMOpt = None,
    llm_url: LLMUrlOpt = None,
    llm_model: LLMModelOpt = None,
) -> None:
    """Translate every item's title and summary into the target languages with the configured
    LLM; resumable, cached by text hash and model under CACHE_DIR/translations.

    Example: babelrec translate --to zh,en,es --store ./store
    """
    from babelrec.display.catalog import stored_items, translate_items
    from babelrec.display.translator import LLMTranslator, TranslationCache

    targets = [t.strip().lower() for t in to.split(",") if t.strip()]
    if not targets:
        raise ConfigError("--to names no language; e.g. --to zh,en,es")
    rec = opts.recommender(**llm_overrides(llm, llm_url, llm_model))
    model, why = rec.generative.llm()
    if model is None:
        raise ConfigError(f"babelrec translate needs an LLM backend: {why}")
    summary = translate_items(
        stored_items(rec.store),
        targets,
        LLMTranslator(model),
        TranslationCache(rec.settings.cache_dir / "translations"),
        rec.settings.display,
        progress=sys.stderr.isatty(),
    )
    for error in summary.errors[:10]:
        err_console.print(f"[yellow]not translated[/yellow] {error}", highlight=False)
    console.print(
        f"{summary.items} items into {', '.join(targets)}: translated {summary.translated}, "
        f"already cached {summary.cached}, refused by the check {summary.refused}, failed "
        f"{summary.failed}, skipped {summary.skipped} (in that language already) "
        f"({summary.seconds:.1f}s, {model.model_id})"
    )
