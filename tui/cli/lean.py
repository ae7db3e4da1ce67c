"""The plain forms of the read-only commands, `--help` and `--version`, without click.

A person runs `podium ls`, `usage`, `report`, `queue ls` and `stage` all day and
waits for each: click alone costs ~20 ms of start-up, as much as the whole
interpreter. `run_lean` handles an argv it fully understands (the command and its
flags, `stage`'s NAME) with the same functions the click commands call
(`tui.cli.reads`), and returns None for anything else (a value option, a
subcommand, `--help` of a command, a typo): click then parses it, and says what
is wrong exactly as before.

Stdlib only at import; `tests/unit/test_lean_cli.py` checks the tables here
against the click commands, so they cannot drift.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

from sessions import __version__


class Plain(NamedTuple):
    """A read-only command's plain form: its flags (each token → the parameter it
    sets), the parameters' defaults, whether it takes a NAME, the function of
    `tui.cli.reads` that runs it, and its options that take a value (each token →
    the parameter, and the values it allows: None for any)."""

    flags: dict[str, str]
    defaults: dict[str, Any]
    name_param: str | None
    run: str
    options: dict[str, tuple[str, tuple[str, ...] | None]] | None = None


PLAIN: dict[tuple[str, ...], Plain] = {
    ("ls",): Plain(
        {"--json": "as_json", "--all": "show_all", "-a": "show_all"},
        {"as_json": False, "show_all": False},
        None,
        "list_sessions",
    ),
    ("usage",): Plain({"--json": "as_json"}, {"as_json": False}, None, "show_windows"),
    ("report",): Plain(
        {"--json": "as_json", "--csv": "as_csv"},
        {"by": "day", "since": None, "until": None, "tz": None, "as_json": False, "as_csv": False},
        None,
        "show_usage",
        # Every --by a report is asked for: a person reads several in a row. A date that
        # is not one goes to click, which says so (`DATE_OPTIONS`).
        {
            "--by": ("by", ("day", "week", "month", "model", "project", "session")),
            "--since": ("since", None),
            "--until": ("until", None),
            "--tz": ("tz", None),
        },
    ),
    ("queue", "ls"): Plain({"--json": "as_json"}, {"as_json": False}, None, "list_tasks"),
    ("stage",): Plain(
        {"--json": "as_json"}, {"name": None, "as_json": False}, "name", "show_stage"
    ),
}

# `podium --help` as click prints it on a terminal of at least `HELP_COLUMNS` columns
# (click caps its help at 80 columns, so it is the same text on any wider one).
# Each command's line is its short help as click cuts it at that width.
HELP_COLUMNS = 80
HELP_HEAD = """\
Usage: podium [OPTIONS] [COMMAND] [ARGS]...

  podium: conduct several coding agents from one terminal.

Options:
  --version   Show the version and exit.
  -h, --help  Show this message and exit.

Commands:
"""
COMMAND_HELP: dict[str, str] = {
    "attach": "Attach this terminal to session NAME's pane (on the stage, if...",
    "db": "The usage log's database file (<data>/podium.duckdb).",
    "demo": "Run podium with stand-in agents: no Claude account needed.",
    "doctor": "Check tmux, Claude Code, paths, permissions and the engine.",
    "engine": "Start, stop or inspect the engine (one per data dir).",
    "export": "Export podium's tables (usage log, limits, sessions, ...) as...",
    "fill": "Run the queue in spare capacity until Ctrl-C or --until,...",
    "kill": "Stop session NAME and close every pane of it, dead ones...",
    "ls": "List the sessions: who needs you first ([attention] order:...",
    "mcp": "Serve podium's tools to its agents over stdio (MCP).",
    "messages": "Messages agents and you posted, newest last: who to whom, and...",
    "new": "Start an agent session in a new tmux pane.",
    "post": "Send TEXT (- reads stdin) to TO: a session's name (typed in...",
    "next": "Focus the session that needs you first (as `podium ls` orders...",
    "queue": "Background tasks that fill spare capacity (run when `podium...",
    "report": "Reports from podium's log; alone: tokens and estimated cost...",
    "resume": "Relaunch ended Claude session NAME with `claude --resume`, in...",
    "review": "How well the capacity was spent: waste at resets, runaway...",
    "send": "Type TEXT into session NAME (use - to read it from stdin).",
    "service": "Start the engine at login (a systemd user unit, else a...",
    "simulate": "Simulate a week of background fill against scenarios and...",
    "stage": "Show who is on stage and who is parked; with NAME, bring that...",
    "team": "Teams: a lead agent splits GOAL into subtasks within a budget...",
    "tower": "Run the control tower here: who needs you, usage, and keys to...",
    "up": "Open podium: the control tower on the left, sessions side by...",
    "usage": "Plan limits now: each window's use, reset, source, age, burn...",
}


def help_text() -> str:
    """`podium --help`, as click prints it at `HELP_COLUMNS` or more."""
    width = max(len(name) for name in COMMAND_HELP)
    lines = [f"  {name.ljust(width)}  {text}" for name, text in sorted(COMMAND_HELP.items())]
    return HELP_HEAD + "\n".join(lines)


def version_text() -> str:
    """`podium --version`, as click's version option prints it (from the package's
    metadata, which this module does not load: importlib.metadata costs ~8 ms)."""
    return f"podium, version {__version__}"


# Options whose value click checks as a date before the command runs.
DATE_OPTIONS = ("since", "until")


def _is_date(text: str) -> bool:
    from datetime import date  # only a report with --since/--until needs it

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse(args: list[str]) -> tuple[Plain, dict[str, Any]] | None:
    """The plain command `args` are and its parameters; None when click must parse them."""
    for prefix, plain in PLAIN.items():
        if tuple(args[: len(prefix)]) != prefix:
            continue
        params = dict(plain.defaults)
        rest = iter(args[len(prefix) :])
        for token in rest:
            if token in plain.flags:
                params[plain.flags[token]] = True
            elif plain.options and token in plain.options:
                name, allowed = plain.options[token]
                value = next(rest, None)
                if value is None or value.startswith("-"):
                    return None  # no value, or an option where it should be: click's
                if allowed is not None and value not in allowed:
                    return None  # click says which values it takes
                if name in DATE_OPTIONS and not _is_date(value):
                    return None
                params[name] = value
            elif token.startswith("-") or plain.name_param is None:
                return None  # an option with a value, --help, a subcommand: click's
            elif params[plain.name_param] is not None:
                return None  # a second NAME: click says it is one too many
            else:
                params[plain.name_param] = token
        return plain, params
    return None


def run_lean(args: list[str]) -> int | None:
    """Run `args` without click when they are a plain read-only command, `--help` or
    `--version`; the exit code, or None for click to run them."""
    if args in (["--help"], ["-h"]):
        # Imported here: only this branch asks for the terminal's width (shutil).
        import shutil

        if shutil.get_terminal_size().columns < HELP_COLUMNS:
            return None  # click wraps and cuts for a narrow terminal
        return _print(help_text())
    if args == ["--version"]:
        return _print(version_text())
    found = parse(args)
    if found is None:
        return None
    plain, params = found
    # Loaded once the command is known: the engine client, paths, formats (no click).
    from collectors.paths import UnsafePath
    from tui.cli import reads
    from tui.cli.common import CliFailure, echo

    # As `tui.cli.main.run` reports each failure.
    try:
        getattr(reads, plain.run)(**params)
    except CliFailure as exc:
        echo(f"podium: {exc}", err=True)
        return exc.exit_code
    except UnsafePath as exc:
        echo(f"podium: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return 0


def _print(text: str) -> int:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0
