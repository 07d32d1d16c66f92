"""What every command shares: its common options (declared once, here), the settings and
`Recommender` they build, the one error handler, and result printing."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from babelrec.display_types import Display
from babelrec.errors import BabelrecError, ConfigError
from babelrec.models import RecommendationResult
from babelrec.settings import Settings

if TYPE_CHECKING:
    from babelrec.pipeline.recommender import Recommender

console = Console()
err_console = Console(stderr=True)


def _option(flag: str, help: str, kind: Any) -> Any:
    return Annotated[kind, typer.Option(flag, help=help)]


#: The options every command that opens a store takes: name -> (annotation, default).
STORE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "store": (
        _option("--store", "Embedded Chroma directory (default DATA_DIR/chroma).", Path | None),
        None,
    ),
    "chroma_url": (
        _option("--chroma-url", "Chroma server URL, e.g. http://127.0.0.1:8000.", str | None),
        None,
    ),
    "data_dir": (
        _option("--data-dir", "Where babelrec keeps state and sessions.", Path | None),
        None,
    ),
    "embedder": (_option("--embedder", "Embedder registry name.", str | None), None),
    "embedder_model": (
        _option("--embedder-model", "Model path for embedders that take one.", str | None),
        None,
    ),
}
DEBUG_OPTION: dict[str, tuple[Any, Any]] = {
    "debug": (_option("--debug", "Show tracebacks and debug logs.", bool), False),
}
JSON_OPTION: dict[str, tuple[Any, Any]] = {
    "as_json": (_option("--json", "Print the result as JSON.", bool), False),
}


@dataclass(frozen=True)
class CommonOptions:
    """The shared options of one command invocation."""

    store: Path | None = None
    chroma_url: str | None = None
    data_dir: Path | None = None
    embedder: str | None = None
    embedder_model: str | None = None
    debug: bool = False
    as_json: bool = False

    def settings(self, **overrides: Any) -> Settings:
        """Settings from the environment, with these options and `overrides` on top."""
        values: dict[str, Any] = {
            "data_dir": self.data_dir,
            "store": {"path": self.store, "chroma_url": self.chroma_url},
            "embedder": {"name": self.embedder, "model": self.embedder_model},
            **overrides,
        }
        try:
            return Settings(**_without_none(values))
        except ValidationError as exc:
            raise ConfigError(f"invalid setting: {validation_problems(exc)}") from None

    def recommender(self, **overrides: Any) -> Recommender:
        from babelrec.pipeline.recommender import Recommender

        return Recommender.from_settings(self.settings(**overrides))


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _without_none(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


def validation_problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
    )


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )


def run_safely(debug: bool, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The one error handler: a `BabelrecError` becomes one red line and exit code 1
    (`--debug` shows the traceback instead); Ctrl-C exits 130."""
    _setup_logging(debug)
    try:
        return func(*args, **kwargs)
    except BabelrecError as exc:
        if debug:
            raise
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def command(
    app: typer.Typer,
    name: str | None = None,
    *,
    store: bool = True,
    json: bool = False,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register `func(opts: CommonOptions, **own_options)` as a command of `app`, adding the
    shared options to its signature and running it inside `run_safely`."""
    shared = {**(STORE_OPTIONS if store else {}), **(JSON_OPTION if json else {}), **DEBUG_OPTION}

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(func, eval_str=True)  # typer reads real annotations
        own = [p for p in signature.parameters.values() if p.name != "opts"]
        added = [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
            for key, (kind, default) in shared.items()
        ]

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> None:
            opts = CommonOptions(**{key: kwargs.pop(key) for key in shared})
            run_safely(opts.debug, func, opts, **kwargs)

        wrapper.__signature__ = inspect.Signature(own + added)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in own + added}
        app.command(name)(wrapper)
        return wrapper

    return decorate


def shown_source(display: Display | None) -> str:
    """Where a row's text came from: original, catalog, machine (model), or original! when a
    machine translation failed its check (and original? when the reader's language is missing)."""
    if display is None:
        return ""
    if display.fallback:
        return "original!"
    if display.source == "machine":
        return f"machine ({escape((display.model or '?').split('#')[0])})"
    return display.source if display.in_user_language else "original?"


def print_result(result: RecommendationResult, *, title: str | None = None) -> None:
    table = Table(title=escape(title) if title else None, show_lines=False, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("item")
    table.add_column("lang")
    table.add_column("region")
    table.add_column("category")
    table.add_column("score", justify="right")
    table.add_column("shown")
    for rec in result.items:
        shown = rec.display
        text = escape(shown.title if shown is not None else rec.item.title)
        if shown is not None and shown.summary:
            text += f"\n{escape(shown.summary)}"
        if rec.explanation is not None:
            text += f"\n[dim]{escape(rec.explanation.text)}[/dim]"
        table.add_row(
            str(rec.rank),
            text,
            rec.item.language or "?",
            rec.item.region or "",
            rec.item.category or "",
            f"{rec.scores.final:.3f}",
            shown_source(shown),
        )
    console.print(table)
    if result.degraded:
        console.print(f"[yellow]degraded:[/yellow] {escape(result.degraded_reason or '')}")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def llm_overrides(
    llm: str | None = None,
    url: str | None = None,
    model: str | None = None,
    reranker: str | None = None,
) -> dict[str, Any]:
    """Settings for the LLM options; a model that names a file is a GGUF path, and a URL alone
    means the openai backend."""
    group: dict[str, Any] = {"backend": llm, "url": url}
    if model is not None and (model.endswith(".gguf") or Path(model).is_file()):
        group["model_path"] = Path(model)
    else:
        group["model"] = model
    if url is not None and llm is None:
        group["backend"] = "openai"
    return _without_none({"llm": group, "rerank": {"name": reranker}})
