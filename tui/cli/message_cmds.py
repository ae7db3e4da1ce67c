"""`podium post` and `podium messages`: the person's side of agents' messages."""

from __future__ import annotations

import sys
from typing import Any

import click

from sessions.messages import MAX_BODY_BYTES
from tui.cli.common import engine, print_json

# How much of a body one listing line shows.
PREVIEW_CHARS = 60


@click.command("post")
@click.argument("to")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the message as JSON.")
def post(to: str, text: str, as_json: bool) -> None:
    """Send TEXT (- reads stdin) to TO: a session's name (typed in as its next prompt
    once its turn has ended), task:ID (its inbox) or team:ID (a team's board)."""
    if text == "-":
        # At most one byte more than a message may hold: the engine says it is too long.
        text = sys.stdin.read(MAX_BODY_BYTES + 1)
    with engine() as client:
        sent = client.call("messages.post", to=to, text=text, from_person=True)
    if as_json:
        print_json(sent)
    elif sent["to_kind"] == "session":
        click.echo(f"message {sent['id']} to {sent['to']}: it goes in once its turn has ended")
    else:
        click.echo(f"message {sent['id']} posted to {sent['to']}")


def _state(message: dict[str, Any]) -> str:
    if message["to_kind"] == "session":
        return "delivered" if message.get("delivered_at") else "pending"
    return "read" if message.get("read_at") else "unread"


@click.command("messages")
@click.option("--session", help="Only those to and from session NAME.")
@click.option("--task", "task_id", type=int, help="Only those to and from task ID.")
@click.option("--team", type=int, help="Only the board of the team whose first task is ID.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the messages as JSON.")
def messages(
    session: str | None, task_id: int | None, team: int | None, limit: int, as_json: bool
) -> None:
    """Messages agents and you posted, newest last: who to whom, and whether each was
    delivered (a session's) or read."""
    with engine() as client:
        found = client.call(
            "messages.list", session=session, task_id=task_id, team=team, limit=limit
        )
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo("no messages")
        return
    for m in found:
        body = " ".join(m["body"].split())
        if len(body) > PREVIEW_CHARS:
            body = body[: PREVIEW_CHARS - 1] + "…"
        when = m["sent_at"][11:19]
        click.echo(f"{m['id']:>4} {when} {m['sender']} → {m['to']} [{_state(m)}] {body}")


COMMANDS = [post, messages]
