"""`podium fill`: spend spare capacity on the queue, in the foreground, until told to stop."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
import msgspec

from sessions import wire
from sessions.fill.schedule import ScheduleError, parse_at
from tui.cli.common import engine, print_json
from tui.cli.queue_cmds import retry_text
from tui.format import clock, percent, window_title


def now() -> datetime:
    return datetime.now(UTC)


def _decision_line(d: dict[str, Any]) -> str:
    until = f" until {clock(d['until'])}" if d.get("until") else ""
    task = f"task {d['task_id']}" if d.get("task_id") is not None else "-"
    return f"{d['action']:<6} {task}{until}: {d['reason']}"


def _windows_line(windows: list[dict[str, Any]]) -> str:
    parts = [
        f"{window_title(w['window'])} {percent(w.get('used_pct'))}"
        + (" (estimate)" if w.get("estimate") else "")
        for w in windows
    ]
    return "windows: " + (", ".join(parts) if parts else "no figures yet")


def check_until(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A time that does not read is bad usage, said before any engine is asked (one
    already past is the engine's to refuse: it knows the [fill] zone)."""
    if value is not None:
        try:
            parse_at(value, UTC)
        except ScheduleError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return value


@click.command("fill")
@click.option(
    "--reserve",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Share of the 5-hour window to leave for you (default: the [fill] reserve schedule).",
)
@click.option(
    "--until",
    metavar="TIME",
    callback=check_until,
    help="Stop at this time (HH:MM: the next one, or ISO 8601).",
)
@click.option("--dry-run", is_flag=True, help="Print what fill would do now, and why; do nothing.")
@click.option(
    "--nightly/--no-nightly",
    default=None,
    help="Let the engine switch fill on every night ([fill] night_start-night_end), "
    "without a terminal; or stop that.",
)
@click.option("--status", is_flag=True, help="Print whether fill is on, since when, and why.")
@click.option("--off", is_flag=True, help="Switch fill off (a nightly schedule stays).")
@click.option("--json", "as_json", is_flag=True, help="Print decisions as JSON lines.")
def fill(
    reserve: float | None,
    until: str | None,
    dry_run: bool,
    nightly: bool | None,
    status: bool,
    off: bool,
    as_json: bool,
) -> None:
    """Run the queue in spare capacity until Ctrl-C or --until, printing each decision."""
    if dry_run and until is not None:
        raise click.UsageError("--dry-run decides for now only: it takes no --until")
    once = [flag for flag, on in (("--nightly", nightly is not None), ("--status", status),
                                  ("--off", off), ("--dry-run", dry_run)) if on]  # fmt: skip
    if len(once) > 1 or (once and once[0] != "--dry-run" and (until or reserve is not None)):
        raise click.UsageError(f"{' and '.join(once)}: each goes alone, without --until/--reserve")
    if nightly is not None or status or off:
        with engine() as client:
            if nightly is not None:
                state = client.call("queue.fill", nightly=nightly)
            elif off:
                state = client.call("queue.fill", enabled=False)
            else:
                state = client.call("queue.fill")
        if as_json:
            print_json(state)
        else:
            click.echo("\n".join(status_lines(state)))
        return
    if dry_run:
        with engine() as client:
            result = client.call("queue.decide", reserve_pct=reserve)
        if as_json:
            print_json(result)
            return
        flat = result["fill"].get("reserve_pct")
        reserve_text = f"{flat:g}%" if flat is not None else "by the [fill] reserve schedule"
        click.echo(f"dry run, reserve {reserve_text}; nothing is launched")
        click.echo(_windows_line(result["windows"]))
        if not result["decisions"]:
            click.echo("nothing to decide: no task is waiting")
        for d in result["decisions"]:
            click.echo(_decision_line(d))
        return
    with engine() as events, engine() as client:
        events.subscribe()  # first, so no decision between the switch and the stream is lost
        state = client.call("queue.fill", enabled=True, reserve_pct=reserve, until=until)
        stop_at = datetime.fromisoformat(state["until"]) if state.get("until") else None
        flat = state.get("reserve_pct")
        reserve_text = f"{flat:g}%" if flat is not None else "by the [fill] reserve schedule"
        click.echo(
            f"fill on, reserve {reserve_text}"
            + (f", until {clock(state['until'])}" if stop_at else "")
            + "; Ctrl-C stops"
        )
        if state.get("nightly"):
            click.echo(status_lines(state)[1])  # the night switches it on again anyway
        try:
            _follow(events, stop_at, as_json)
        except KeyboardInterrupt:
            pass
        finally:
            client.call("queue.fill", enabled=False)
            click.echo("fill off")


def status_lines(state: dict[str, Any]) -> list[str]:
    """Fill's switch in words: on or off, who switched it and when, the night schedule."""
    lines = []
    if state["enabled"]:
        by = {
            "config": "[fill] enabled, at the engine's start",
            "nightly": "the night schedule",
            "you": "you",
        }.get(state.get("source") or "", "you")
        since = f" since {clock(state['since'])}" if state.get("since") else ""
        until = f", until {clock(state['until'])}" if state.get("until") else ""
        lines.append(f"fill on{since}{until} (switched on by {by})")
    else:
        lines.append("fill off")
    night = state.get("night") or "the night window"
    if state.get("nightly"):
        where = "`podium fill --nightly`" if state.get("nightly_from") == "fill" else (
            '[fill] schedule = "night"')  # fmt: skip
        lines.append(
            f"nightly: the engine switches fill on at {night.replace('-', ' and off at ')} "
            f"every day ({where}); it needs no terminal, only a running engine "
            "(`podium service install` starts one at login)"
        )
    else:
        lines.append(f"nightly: no (`podium fill --nightly` runs fill every night, {night})")
    return lines


def _follow(events: Any, stop_at: datetime | None, as_json: bool) -> None:
    if stop_at is not None:
        remaining = (stop_at - datetime.now(UTC)).total_seconds() + 2
        events.sock.settimeout(max(remaining, 0.1))
    try:
        for event in events.events():
            if as_json and isinstance(event, wire.FillEvent | wire.QueueEvent):
                click.echo(json.dumps(msgspec.to_builtins(event), ensure_ascii=False))
                continue
            if isinstance(event, wire.FillEvent):
                data = event.data
                if data.kind == "decisions" and data.decisions and data.at:
                    for d in data.decisions:
                        at = clock(data.at, seconds=True)
                        click.echo(f"{at} {_decision_line(msgspec.to_builtins(d))}")
                elif data.kind == "switch" and not data.enabled:
                    return  # switched off: --until, the tower, or another `podium fill`
            elif isinstance(event, wire.QueueEvent) and event.data.run:
                run = event.data.run
                cost = run.total_cost_usd
                state = run.state
                if run.state == "running":
                    retry = run.retrying
                    if retry is None:
                        state = "running (got through)"
                    else:
                        state = f"retrying ({retry_text(msgspec.to_builtins(retry), now())})"
                click.echo(
                    f"run {run.id} of task {run.task_id}: {state}"
                    + (f", ${cost:.4f}" if cost is not None else "")
                )
    except TimeoutError:
        return


COMMANDS = [fill]
