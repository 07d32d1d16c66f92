"""`babelrec recommend`: the top k items for a user, explained."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, llm_overrides, print_result
from babelrec.errors import ConfigError
from babelrec.models import Filters, HistoryEntry, UserProfile

LLMOpt = Annotated[
    str | None, typer.Option("--llm", help="LLM backend: llama-cpp, openai, none or a plugin.")
]
LLMUrlOpt = Annotated[
    str | None, typer.Option("--llm-url", help="OpenAI-compatible base URL (--llm openai).")
]
LLMModelOpt = Annotated[
    str | None,
    typer.Option("--llm-model", help="Hosted model name, gemma3/smollm2, or a GGUF path."),
]
RerankerOpt = Annotated[
    str | None, typer.Option("--reranker", help="verbalizer, listwise, pointwise or a plugin.")
]


def read_user_file(path: Path) -> UserProfile:
    try:
        return UserProfile.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read user file {path}: {exc}") from exc


@command(app, json=True)
def recommend(
    opts: CommonOptions,
    interests: Annotated[
        str, typer.Option("--interests", help="What the user likes, any language.")
    ] = "",
    lang: Annotated[str | None, typer.Option("--lang", help="User language (ISO 639-1).")] = None,
    region: Annotated[str | None, typer.Option("--region", help="User region (ISO 3166).")] = None,
    history: Annotated[
        list[str] | None, typer.Option("--history", help="Item id the user liked; repeatable.")
    ] = None,
    user_file: Annotated[
        Path | None, typer.Option("--user-file", help="A UserProfile as JSON.")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many items.")] = 10,
    item_lang: Annotated[
        list[str] | None,
        typer.Option("--item-lang", help="Only items in this language; repeatable."),
    ] = None,
    item_region: Annotated[
        list[str] | None,
        typer.Option("--item-region", help="Only items from this region; repeatable."),
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Only this category; repeatable.")
    ] = None,
    openness: Annotated[
        float | None,
        typer.Option(
            "--openness",
            min=0.0,
            max=1.0,
            help="0 keeps to the user's languages and regions, 1 explores other cultures "
            "(default: the profile's, else setting calibration.openness).",
        ),
    ] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="First-stage ranking only.")] = False,
    llm: LLMOpt = None,
    llm_url: LLMUrlOpt = None,
    llm_model: LLMModelOpt = None,
    reranker: RerankerOpt = None,
) -> None:
    """Recommend items for a user; an LLM reranks and explains unless --no-llm.

    Example: babelrec recommend --interests "我喜欢足球和篮球" --lang zh -k 5 --no-llm
    """
    if user_file is not None:
        user = read_user_file(user_file)
    else:
        from babelrec.i18n.langid import detect_language

        language = lang or (detect_language(interests) if interests else None) or "en"
        user = UserProfile(
            language=language,
            region=region,
            interests=interests,
            history=[HistoryEntry(item_id=i) for i in history or []],
        )
    if openness is not None:
        user = UserProfile.model_validate({**user.model_dump(), "openness": openness})
    filters = Filters(languages=item_lang, regions=item_region, categories=category)
    rec = opts.recommender(**llm_overrides(llm, llm_url, llm_model, reranker))
    result = rec.recommend(
        user, k=k, filters=None if filters.is_empty() else filters, use_llm=not no_llm
    )
    if opts.as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        print_result(result)
