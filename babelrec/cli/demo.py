"""`babelrec demo`: the bundled multilingual catalog and three example users."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console, print_result
from babelrec.io.catalog import demo_catalog_path
from babelrec.models import UserProfile

DEMO_USERS = (
    ("zh", "CN", "我喜欢足球和篮球，也关注人工智能"),
    ("es", "MX", "Me encanta la cocina tradicional y los festivales"),
    ("ar", "EG", "أحب التكنولوجيا والفضاء"),
)


@command(app)
def demo(opts: CommonOptions, k: Annotated[int, typer.Option("-k")] = 5) -> None:
    """Ingest the bundled multilingual demo catalog and recommend for three example users.

    Example: babelrec demo --store /tmp/demo-store
    """
    rec = opts.recommender()
    summary = rec.ingest(demo_catalog_path(), progress=sys.stderr.isatty())
    console.print(
        f"demo catalog: added {summary.added}, updated {summary.updated}, unchanged "
        f"{summary.unchanged} -> {rec.store.count()} items in {rec.store.location}"
    )
    for language, region, interests in DEMO_USERS:
        user = UserProfile(language=language, region=region, interests=interests)
        result = rec.recommend(user, k=k)
        print_result(result, title=f"[{language}-{region}] {interests}")
