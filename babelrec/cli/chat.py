"""`babelrec chat`: a terminal conversation. Reads plain lines from stdin when it is not a
terminal, so a chat can be scripted: `printf '推荐一些足球新闻\\n/quit\\n' | babelrec chat`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console, llm_overrides

if TYPE_CHECKING:
    from babelrec.agent.state import ChatReply


def print_reply(console: Console, reply: ChatReply) -> None:
    """The reply's sentence, then its numbered list with each explanation under its item."""
    from rich.markup import escape

    console.print(f"[bold]{escape(reply.text)}[/bold]", soft_wrap=True, highlight=False)
    for pick in reply.recommendations:
        item = pick.item
        facts = "·".join(v for v in (item.language or "?", item.region, item.category) if v)
        console.print(
            f"  {pick.rank}. [cyan]\\[{escape(facts)}][/cyan] {escape(item.title)}",
            soft_wrap=True,
            highlight=False,
        )
        if pick.explanation is not None:
            console.print(
                f"     [dim]{escape(pick.explanation.text)}[/dim]", soft_wrap=True, highlight=False
            )
    for warning in reply.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)


def _lines(console: Console) -> Any:
    """Messages typed at a prompt, or read line by line from a pipe."""
    if sys.stdin.isatty():
        while True:
            try:
                yield console.input("[bold green]>[/bold green] ")
            except EOFError:
                return
    else:
        yield from (line.rstrip("\n") for line in sys.stdin)


@command(app, "chat", json=True)
def chat_command(
    opts: CommonOptions,
    session: Annotated[
        str, typer.Option("--session", help="Session id; the same id continues a conversation.")
    ] = "default",
    k: Annotated[int, typer.Option("-k", help="How many items per reply.")] = 5,
    llm: Annotated[
        str | None,
        typer.Option("--llm", help="LLM backend: none, llama-cpp, openai, fake or a plugin."),
    ] = None,
) -> None:
    """Talk to babelrec in any language and refine what you get; /reset, /lang XX, /quit.

    Example: printf '推荐一些足球新闻\\n只要英文的\\n/quit\\n' | babelrec chat --session t1
    """
    from babelrec.agent.agent import ChatAgent
    from babelrec.agent.replies import describe, say

    rec = opts.recommender(**llm_overrides(llm))
    agent = ChatAgent(rec, k=k)
    known = agent.sessions.load(session)
    if known is not None and known.turns and not opts.as_json:
        resumed = say(
            known.language,
            "resumed",
            session=session,
            constraints=describe(known.constraints, known.language),
        )
        console.print(f"[dim]{resumed}[/dim]", soft_wrap=True, highlight=False)
    for line in _lines(console):
        message = line.strip()
        if not message:
            continue
        if message.lower() in ("/quit", "/exit"):
            break
        reply = agent.respond(session, message)
        if opts.as_json:
            sys.stdout.write(reply.model_dump_json() + "\n")
        else:
            print_reply(console, reply)
