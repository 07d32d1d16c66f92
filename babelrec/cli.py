"""The `babelrec` command line. Every command takes `--store` and `--chroma-url`; errors are
one line (add `--debug` for the traceback)."""

from __future__ import annotations

import logging
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from babelrec.agent.chat.cli import chat_command
from babelrec.errors import BabelrecError, ConfigError
from babelrec.models import Filters, HistoryEntry, RecommendationResult, UserProfile

app = typer.Typer(
    help="babelrec: cross-lingual recommendations that explain themselves.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Embedded Chroma directory (default DATA_DIR/chroma)."),
]
ChromaUrlOpt = Annotated[
    str | None, typer.Option("--chroma-url", help="Chroma server URL, e.g. http://127.0.0.1:8000.")
]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where babelrec keeps state.")]
EmbedderOpt = Annotated[str | None, typer.Option("--embedder", help="Embedder registry name.")]
EmbedderModelOpt = Annotated[
    str | None, typer.Option("--embedder-model", help="Model path for embedders that take one.")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]


def demo_catalog_path() -> Path:
    return Path(str(resources.files("babelrec") / "data" / "demo" / "catalog.jsonl"))


def settings_overrides(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def run_safely(debug: bool, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a command body; a `BabelrecError` becomes one red line and exit code 1."""
    _setup_logging(debug)
    try:
        return func(*args, **kwargs)
    except BabelrecError as exc:
        if debug:
            raise
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        if debug:
            raise
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
            for err in exc.errors()
        )
        err_console.print(f"[red]error:[/red] invalid setting: {problems}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def build_recommender(
    store: Path | None,
    chroma_url: str | None,
    data_dir: Path | None,
    embedder: str | None = None,
    embedder_model: str | None = None,
    **overrides: Any,
) -> Any:
    """A `Recommender` from settings, with the command's store and embedder options on top."""
    from babelrec.recommender import Recommender

    return Recommender.from_settings(
        **settings_overrides(
            store_path=store,
            chroma_url=chroma_url,
            data_dir=data_dir,
            embedder=embedder,
            embedder_model=embedder_model,
            **overrides,
        )
    )


def llm_overrides(
    llm: str | None, url: str | None, model: str | None, reranker: str | None
) -> dict[str, Any]:
    """Settings for the LLM options; a model that names a file is a GGUF path."""
    values: dict[str, Any] = {"llm": llm, "llm_url": url, "reranker": reranker}
    if model is not None and (model.endswith(".gguf") or Path(model).is_file()):
        values["llm_model_path"] = Path(model)
    else:
        values["llm_model"] = model
    if url is not None and llm is None:
        values["llm"] = "openai"
    return settings_overrides(**values)


def print_result(result: RecommendationResult, *, title: str | None = None) -> None:
    table = Table(title=title, show_lines=False, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("item")
    table.add_column("lang")
    table.add_column("region")
    table.add_column("category")
    table.add_column("score", justify="right")
    for rec in result.items:
        text = rec.item.title
        if rec.explanation is not None:
            text += f"\n[dim]{rec.explanation.text}[/dim]"
        table.add_row(
            str(rec.rank),
            text,
            rec.item.language or "?",
            rec.item.region or "",
            rec.item.category or "",
            f"{rec.scores.final:.3f}",
        )
    console.print(table)
    if result.degraded:
        console.print(f"[yellow]degraded:[/yellow] {result.degraded_reason}")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="Catalog file, .jsonl or .csv.")],
    strict: Annotated[
        bool, typer.Option(help="Any bad row fails the ingest; nothing is written.")
    ] = False,
    store: StoreOpt = None,
    chroma_url: ChromaUrlOpt = None,
    data_dir: DataDirOpt = None,
    embedder: EmbedderOpt = None,
    embedder_model: EmbedderModelOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Add or update catalog items.

    Example: babelrec ingest catalog.jsonl --store ./store
    """

    def body() -> None:
        rec = build_recommender(store, chroma_url, data_dir, embedder, embedder_model)
        summary = rec.ingest(path, strict=strict, progress=sys.stderr.isatty())
        for error in summary.errors:
            err_console.print(f"[yellow]skipped[/yellow] {path}: {error}", highlight=False)
        console.print(
            f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged}, "
            f"skipped {summary.skipped} ({summary.seconds:.1f}s; {rec.store.count()} items "
            f"in {rec.store.location})"
        )

    run_safely(debug, body)


@app.command()
def migrate(
    store: StoreOpt = None,
    chroma_url: ChromaUrlOpt = None,
    data_dir: DataDirOpt = None,
    embedder: EmbedderOpt = None,
    embedder_model: EmbedderModelOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Bring an existing store up to date: compute its per-language statistics (one read).

    Example: babelrec migrate --store ./store
    """

    def body() -> None:
        rec = build_recommender(store, chroma_url, data_dir, embedder, embedder_model)
        stats = rec.store.rebuild_language_stats()
        shown = ", ".join(f"{k or 'unknown'} {v}" for k, v in sorted(stats.counts.items()))
        console.print(
            f"language statistics of {stats.total} items ({shown or 'none'}) stored with "
            f"{rec.store.collection_name!r} in {rec.store.location}"
        )

    run_safely(debug, body)


@app.command()
def recommend(
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="First-stage ranking only.")] = False,
    llm: Annotated[
        str | None, typer.Option("--llm", help="LLM backend: llama-cpp, openai or none.")
    ] = None,
    llm_url: Annotated[
        str | None, typer.Option("--llm-url", help="OpenAI-compatible base URL (--llm openai).")
    ] = None,
    llm_model: Annotated[
        str | None,
        typer.Option("--llm-model", help="Hosted model name, gemma3/smollm2, or a GGUF path."),
    ] = None,
    reranker: Annotated[
        str | None, typer.Option("--reranker", help="verbalizer, listwise or pointwise.")
    ] = None,
    store: StoreOpt = None,
    chroma_url: ChromaUrlOpt = None,
    data_dir: DataDirOpt = None,
    embedder: EmbedderOpt = None,
    embedder_model: EmbedderModelOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Recommend items for a user; an LLM reranks and explains unless --no-llm.

    Example: babelrec recommend --interests "我喜欢足球和篮球" --lang zh -k 5 --no-llm
    """

    def body() -> None:
        if user_file is not None:
            try:
                user = UserProfile.model_validate_json(user_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BabelrecError(f"cannot read user file {user_file}: {exc}") from exc
        else:
            from babelrec.retrieval.langid import detect_language

            language = lang or (detect_language(interests) if interests else None) or "en"
            user = UserProfile(
                language=language,
                region=region,
                interests=interests,
                history=[HistoryEntry(item_id=i) for i in history or []],
            )
        filters = Filters(languages=item_lang, regions=item_region, categories=category)
        rec = build_recommender(
            store,
            chroma_url,
            data_dir,
            embedder,
            embedder_model,
            **llm_overrides(llm, llm_url, llm_model, reranker),
        )
        result = rec.recommend(
            user, k=k, filters=None if filters.is_empty() else filters, use_llm=not no_llm
        )
        if as_json:
            sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        else:
            print_result(result)

    run_safely(debug, body)


@app.command()
def train(
    interactions: Annotated[Path, typer.Argument(help="CSV with user_id,item_id[,timestamp].")],
    mode: Annotated[str, typer.Option(help="shared or per_item weights.")] = "shared",
    epochs: Annotated[int, typer.Option(help="Passes over the examples.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed (training is deterministic).")] = 0,
    store: StoreOpt = None,
    chroma_url: ChromaUrlOpt = None,
    data_dir: DataDirOpt = None,
    embedder: EmbedderOpt = None,
    embedder_model: EmbedderModelOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Learn the bilinear ranker's weights W from interactions (BPR) and save them with the store.

    Example: babelrec train interactions.csv --mode per_item --epochs 10
    """

    def body() -> None:
        from babelrec.retrieval.bilinear import BilinearRanker, BPRConfig
        from babelrec.retrieval.training import examples_from_interactions, read_interactions

        if mode not in ("shared", "per_item"):
            raise ConfigError(f"--mode must be shared or per_item, not {mode!r}")
        config = BPRConfig(mode=mode, epochs=epochs, seed=seed)
        rec = build_recommender(store, chroma_url, data_dir, embedder, embedder_model)
        rows = read_interactions(interactions)
        vectors = rec.item_vectors(sorted({r.item_id for r in rows}))
        examples = examples_from_interactions(rows, vectors)
        ranker = BilinearRanker.fit(examples, vectors, config)
        path = rec.save_ranker(ranker)
        unknown = len({r.item_id for r in rows} - set(vectors))
        console.print(
            f"trained {config.mode} weights on {len(examples)} examples "
            f"({unknown} unknown item ids ignored) -> {path}"
        )

    run_safely(debug, body)


@app.command("eval")
def eval_command(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML (or a bundled file name).")],
    limit: Annotated[int | None, typer.Option("--limit", help="Evaluate at most N cases.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Report folder.")] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Shared data folder (BABELREC_EVAL_DATA).")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Compare rankers on real data; writes report.md, report.json and PNG plots.

    Example: babelrec eval babelrec/eval/experiments/mind_zh.yaml --limit 300 --out eval-out/mind-zh
    """

    def body() -> None:
        from babelrec.eval.experiment import load_experiment
        from babelrec.eval.runner import run_experiment
        from babelrec.settings import Settings

        exp = load_experiment(experiment)
        out_dir = out or Path("eval-out") / exp.name
        summary = run_experiment(
            exp,
            out_dir=out_dir,
            limit=limit,
            data_dir=data,
            cache_dir=Settings().cache_dir,
            progress=sys.stderr.isatty(),
        )
        table = Table(title=f"{exp.name} ({summary['protocol']['test_cases']} cases)")
        metrics = ["auc", "mrr", "ndcg@10", "recall@10"]
        table.add_column("ranker")
        for metric in metrics:
            table.add_column(metric, justify="right")
        for row in summary["results"]:
            table.add_row(
                row["ranker"], *(f"{row['metrics'].get(m, float('nan')):.3f}" for m in metrics)
            )
        console.print(table)
        console.print(f"report: {out_dir / 'report.md'}")

    run_safely(debug, body)


DEMO_USERS = (
    ("zh", "CN", "我喜欢足球和篮球，也关注人工智能"),
    ("es", "MX", "Me encanta la cocina tradicional y los festivales"),
    ("ar", "EG", "أحب التكنولوجيا والفضاء"),
)


@app.command()
def demo(
    store: StoreOpt = None,
    chroma_url: ChromaUrlOpt = None,
    data_dir: DataDirOpt = None,
    k: Annotated[int, typer.Option("-k")] = 5,
    debug: DebugOpt = False,
) -> None:
    """Ingest the bundled multilingual demo catalog and recommend for three example users.

    Example: babelrec demo --store /tmp/demo-store
    """

    def body() -> None:
        rec = build_recommender(store, chroma_url, data_dir)
        summary = rec.ingest(demo_catalog_path(), progress=sys.stderr.isatty())
        console.print(
            f"demo catalog: added {summary.added}, updated {summary.updated}, unchanged "
            f"{summary.unchanged} -> {rec.store.count()} items in {rec.store.location}"
        )
        for language, region, interests in DEMO_USERS:
            user = UserProfile(language=language, region=region, interests=interests)
            result = rec.recommend(user, k=k)
            print_result(result, title=f"[{language}-{region}] {interests}")

    run_safely(debug, body)


app.command("chat")(chat_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
