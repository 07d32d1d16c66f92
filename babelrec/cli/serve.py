"""`babelrec serve`: the HTTP API and the chat page."""

from __future__ import annotations

from typing import Annotated

import typer

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console


@command(app)
def serve(
    opts: CommonOptions,
    host: Annotated[
        str | None, typer.Option("--host", help="Interface (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", help="Bearer token required on /v1 (or BABELREC_SERVICE__API_KEY)."
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None, typer.Option("--cors-origin", help="Allowed browser origin; repeatable.")
    ] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="LLM backend, or none.")] = None,
) -> None:
    """Serve the API (POST /v1/recommend, /v1/chat/{id}, /v1/items; GET /healthz) and the chat
    page at /.

    Example: babelrec serve --store ./store --port 8000
    """
    import uvicorn

    from babelrec.service import create_app

    group = {"host": host, "port": port, "api_key": api_key, "cors_origins": cors_origin}
    overrides = {"service": {k: v for k, v in group.items() if v is not None}}
    if llm is not None:
        overrides["llm"] = {"backend": llm}
    rec = opts.recommender(**overrides)
    service = rec.settings.service
    console.print(
        f"babelrec serving {rec.store.count()} items on http://{service.host}:{service.port}"
    )
    uvicorn.run(
        create_app(rec),
        host=service.host,
        port=service.port,
        log_level="debug" if opts.debug else "warning",
    )
