"""What the read-only commands print: `ls`, `usage`, `report`, `queue ls`, `stage`.

No click here, nor anything heavy at import: `tui.cli.lean` runs these for the
plain forms of the commands before click is loaded (a person runs them all day,
and waits for each); the click commands call the same functions, so both paths
print the same thing.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from collectors.durations import duration
from tui.cli.common import CliFailure, age, echo, engine, print_json, table
from tui.format import WINDOW_HEADERS, clock, count, usd, window_cells

# Reports and exports may scan or write a long history: more than the usual 30 s.
SLOW_TIMEOUT = 3600.0


# -- podium ls ---------------------------------------------------------------------------------
def list_sessions(as_json: bool, show_all: bool) -> None:
    with engine() as client:
        sessions = client.call("sessions.list")
    if as_json:
        print_json(sessions)
        return
    if not sessions:
        echo("no sessions; start one with `podium new` (or try `podium demo`)")
        return
    shown = sessions if show_all else [s for s in sessions if s["state"] != "exited"]
    if shown:
        echo(sessions_table(shown))
    if len(shown) < len(sessions):
        # On stderr: stdout stays the table alone, for scripts.
        hidden = len(sessions) - len(shown)
        echo(f"{hidden} exited session(s) not listed: --all lists them", err=True)


def sessions_table(sessions: list[dict[str, Any]]) -> str:
    home = str(Path.home())
    rows = [
        [
            # The number Alt-N and the pane border show, kept for the session's life.
            str(s["number"]) if s.get("number") is not None else "-",
            s["name"],
            s["agent"],
            _state_text(s),
            age(s["state_since"]),
            duration(s["attention"]["waited_s"]) if s.get("attention") else "-",
            s["pane_id"] or "-",
            s["cwd"].replace(home, "~", 1) if s["cwd"].startswith(home) else s["cwd"],
        ]
        for s in sessions
    ]
    headers = ["#", "NAME", "AGENT", "STATE", "FOR", "WAITED", "PANE", "CWD"]
    # The branch column only when some session has a worktree: most lists have none.
    if any(s.get("worktree_branch") for s in sessions):
        headers.insert(-1, "BRANCH")
        for row, s in zip(rows, sessions, strict=True):
            row.insert(-1, s.get("worktree_branch") or "-")
    return table(rows, headers)


def _state_text(session: dict[str, Any]) -> str:
    text = _state_alone(session)
    waiting = session.get("messages_waiting") or 0
    if waiting:
        return f"{text}, {waiting} message{'s' if waiting > 1 else ''} waiting"
    return text


def _state_alone(session: dict[str, Any]) -> str:
    state = session["state"]
    if state == "exited" and session["exit_code"] is not None:
        return f"{state} ({session['exit_code']})"
    if state == "limited" and session.get("limit_resets_at"):
        return f"{state} (resets {clock(session['limit_resets_at'])})"
    if session.get("attention") is None and state in ("permission", "limited"):
        return f"{state} (seen)"
    return state


# -- podium usage ------------------------------------------------------------------------------
def show_windows(as_json: bool) -> None:
    with engine() as client:
        result = client.call("usage.windows")
    if as_json:
        print_json(result)
        return
    windows = result["windows"]
    if not windows:
        echo(
            "no limit figures yet: they come from Claude Code's statusline (plan accounts) "
            "once a podium session has had an answer"
        )
        return
    now = datetime.fromisoformat(result["now"])
    echo(table([window_cells(window_view(w), now) for w in windows], WINDOW_HEADERS))


# `sessions.wire.UsageWindow`'s defaults (tests/unit/test_lean_cli.py checks them):
# `window_view` reads a window as that Struct does, without msgspec (~18 ms to import).
WINDOW_DEFAULTS: dict[str, Any] = {
    "resets_at": None,
    "source": "estimate",
    "captured_at": None,
    "age_s": None,
    "estimate": False,
    "burn_pct_per_hour": None,
    "projected_pct_at_reset": None,
    "limit_at": None,
    "detail": None,
}


def window_view(window: dict[str, Any]) -> Any:
    """A window of `usage.windows` with the attributes of a `wire.UsageWindow`."""
    return SimpleNamespace(**{**WINDOW_DEFAULTS, **window})


# -- podium report [--by …] --------------------------------------------------------------------
_KEY_HEADERS = {
    "day": "DAY",
    "week": "WEEK OF",
    "month": "MONTH",
    "model": "MODEL",
    "project": "PROJECT",
    "session": "SESSION",
}


def call_slow(method: str, **params: Any) -> Any:
    """One request that may scan or write a long history (`SLOW_TIMEOUT`)."""
    with engine() as client:
        client.sock.settimeout(SLOW_TIMEOUT)
        return client.call(method, **params)


def check_args(as_json: bool, as_csv: bool, tz: str | None, *dates: str | None) -> str:
    """Bad usage is exit 2 before any engine is asked; returns the zone to use."""
    # Only the reports read zones (zoneinfo): the other commands here start without it.
    from collectors.report_args import ReportError, check_tz, local_tz_name, parse_date

    if as_json and as_csv:
        raise CliFailure("choose one of --json and --csv", exit_code=2)
    tz = tz or local_tz_name()
    try:
        check_tz(tz)
        for text in dates:
            parse_date(text)
    except ReportError as exc:
        raise CliFailure(str(exc), exit_code=2) from None
    return tz


def write_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Rows as CSV on stdout, header first (Unix newlines: it is read by tools here)."""
    # Only --csv writes CSV.
    import csv

    writer = csv.DictWriter(
        sys.stdout, fieldnames=columns, lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)


def show_usage(
    by: str,
    since: str | None,
    until: str | None,
    tz: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    tz = check_args(as_json, as_csv, tz, since, until)
    result = call_slow("reports.usage", by=by, since=since, until=until, tz=tz)
    rows = result["rows"]
    if as_json:
        print_json(result)
        return
    keys = [by] + (["project"] if by == "session" else [])
    counts = [
        "messages",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "tokens",
        "cost_usd",
    ]
    if as_csv:
        extra = ["first_ts", "last_ts"] if by == "session" else []
        write_csv(rows, [*keys, *counts, "unpriced", *extra])
        return
    if not rows:
        span = f" from {since}" if since else ""
        span += f" to {until}" if until else ""
        echo(
            f"no messages in the usage log{span}: it fills from Claude Code's transcripts "
            "(`podium usage ingest`)"
        )
        return
    headers = [
        *(_KEY_HEADERS.get(k, k.upper()) for k in keys),
        "MSGS",
        "INPUT",
        "OUTPUT",
        "CACHE WRITE",
        "CACHE READ",
        "TOTAL",
        "COST",
    ]

    def line(r: dict[str, Any], label: list[str]) -> list[str]:
        return [
            *label,
            *(count(r[k]) for k in counts[:-1]),
            ("~" if r["unpriced"] else "") + usd(r["cost_usd"]),
        ]

    body = [line(r, [str(r[k]) for k in keys]) for r in rows]
    body.append(line(result["total"], ["TOTAL", *([""] * (len(keys) - 1))]))
    echo(table(body, headers))
    if result["total"]["unpriced"]:
        echo(
            f"~: {result['total']['unpriced']} messages of models without a price are not "
            "in the cost; add them under [prices.models] in the config file"
        )
    echo(f"times in {result['tz']}; cost at API list prices (an estimate for a plan)")


# -- podium queue ls ---------------------------------------------------------------------------
def list_tasks(as_json: bool) -> None:
    with engine() as client:
        result = client.call("queue.list")
    if as_json:
        print_json(result)
        return
    tasks = result["tasks"]
    fill = result.get("fill") or {}
    reserve = fill.get("reserve_pct")
    kept = "reserve by the [fill] reserve schedule"
    if reserve is not None:
        kept = f"reserve {reserve:g}%"
    if fill.get("enabled") and fill.get("until"):
        kept += f", until {clock(fill['until'])}"
    if fill.get("nightly"):
        kept += f"; on every night {fill.get('night') or ''}".rstrip()
    echo(f"fill {'on' if fill.get('enabled') else 'off'}, {kept}")
    if not tasks:
        echo("the queue is empty: `podium queue add PROMPT`")
        return
    rows = [
        [
            str(t["id"]),
            state_cell(t),
            str(t["priority"]),
            schedule_cell(t),
            model_cell(t),
            str(t["runs"]),
            f"${t['cost_usd']:.4f}",
            limits_cell(t),
            age(t.get("created_at")),
            one_line(t["prompt"], 32),
            one_line(t.get("last_result") or "", 40),
        ]
        for t in tasks
    ]
    headers = [
        "ID", "STATE", "PRIO", "SCHEDULE", "MODEL", "RUNS", "COST", "BUDGET", "AGE", "PROMPT",
        "LAST RESULT",
    ]  # fmt: skip
    echo(table(rows, headers))


def one_line(text: str, width: int = 48) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def limits_cell(t: dict[str, Any]) -> str:
    """A task's budget, estimate and timeout in one cell: '30%5h ~5%5h 45m', or '-'."""
    parts = []
    if t.get("budget"):
        parts.append(t["budget"])
    elif t.get("budget_usd") is not None:
        parts.append(f"${t['budget_usd']:g}")
    if t.get("estimate"):
        parts.append(f"~{t['estimate']}")
    if t.get("timeout_s"):
        parts.append(duration(t["timeout_s"]))
    return " ".join(parts) or "-"


def state_cell(t: dict[str, Any]) -> str:
    """The task's state; a run in Claude Code's retry loop shows as 'retrying 3/10', one
    that waits on other tasks as 'queued after 3,4' or 'queued held by 3', a paused one
    as 'paused by you'."""
    retry = (t.get("last_run") or {}).get("retrying") if t.get("state") == "running" else None
    if retry:
        return f"retrying {retry['attempt']}/{retry['max_retries']}"
    # A task that waits on others (`--after`) says which: held by a failed one, or after
    # the ones not done yet (`queue show` says why).
    open_ = [d for d in t.get("after") or [] if d["state"] != "done"]
    if open_ and t.get("waits"):
        stuck = [d for d in open_ if d["state"] in ("failed", "cancelled", "paused")]
        if stuck:
            return f"{t['state']} held by {stuck[0]['id']}"
        return f"{t['state']} after {','.join(str(d['id']) for d in open_)}"
    if t.get("state") == "paused" and t.get("paused_by"):
        return f"paused by {t['paused_by']}"
    return str(t["state"])


def model_cell(t: dict[str, Any]) -> str:
    """The model a task's last run ran on; before its first run, its model and the
    fallback it allows ('opus→sonnet'); '-' for the agent's default."""
    last = t.get("last_run")
    if last:
        return last.get("model") or "-"
    model = t.get("model") or "-"
    return f"{model}→{t['model_fallback']}" if t.get("model_fallback") else model


def schedule_cell(t: dict[str, Any]) -> str:
    text = t.get("schedule_text") or "-"
    if t.get("state") == "deferred" and t.get("defer_until"):
        return (
            f"until {clock(t['defer_until'])}"
            if text == "-"
            else f"{text}; until {clock(t['defer_until'])}"
        )
    return text


# -- podium stage ------------------------------------------------------------------------------
def show_stage(name: str | None, as_json: bool) -> None:
    with engine() as client:
        result = client.call("stage.show", name=name) if name else client.call("stage.layout")
    if as_json:
        print_json(result)
    elif name:
        echo(f"{result['name']} on stage")
    elif result["window_id"] is None:
        echo("no stage yet: `podium up` makes it")
    else:
        echo(describe_stage(result))


def describe_stage(layout: dict[str, Any]) -> str:
    staged = ", ".join(layout["staged"]) or "nobody yet (`podium new` starts a session)"
    lines = [f"on stage: {staged}"]
    if layout["parked"]:
        lines.append(f"parked:   {', '.join(layout['parked'])}")
    if layout["tower_pane"] and not layout["tower_alive"]:
        lines.append("the control tower has exited: `podium up` starts it again")
    elif layout["window_id"] and not layout["tower_pane"]:
        lines.append("the control tower is closed: Alt-0 or `podium up` brings it back")
    return "\n".join(lines)
