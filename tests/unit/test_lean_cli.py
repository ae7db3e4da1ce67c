"""The read-only commands without click (`tui.cli.lean`): its tables equal the click
commands', it hands click whatever it does not fully understand, and it prints
what the click commands print, byte for byte, from modules that load neither
click nor msgspec."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import msgspec
import pytest

from sessions import wire
from tui.cli import lean, reads
from tui.cli.lean import PLAIN, parse, run_lean
from tui.cli.main import cli, run


def click_command(prefix: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    ctx = click.Context(cli, info_name="podium")
    for name in prefix:
        assert isinstance(command, click.Group)
        found = command.get_command(ctx, name)
        assert found is not None, name
        command = found
    return command


@pytest.mark.parametrize("prefix", list(PLAIN))
def test_plain_forms_match_the_click_commands(prefix: tuple[str, ...]) -> None:
    """Each flag sets the parameter click's flag sets, every other parameter starts at
    click's default, and NAME is click's one argument."""
    plain = PLAIN[prefix]
    command = click_command(prefix)
    flags: dict[str, str] = {}
    options: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    arguments = []
    for param in command.params:
        if isinstance(param, click.Option) and param.is_flag:
            assert not param.secondary_opts, "a --no- flag: lean does not know it"
            flags.update(dict.fromkeys(param.opts, param.name or ""))
        elif isinstance(param, click.Option) and not param.hidden:
            choices = param.type.choices if isinstance(param.type, click.Choice) else None
            options.update(
                dict.fromkeys(param.opts, (param.name or "", tuple(choices) if choices else None))
            )
        elif isinstance(param, click.Argument):
            arguments.append(param.name)
    assert plain.flags == flags
    # Lean knows all of a command's value options, or none: those go to click.
    if plain.options:
        assert plain.options == options
    for token in options:
        if token not in (plain.options or {}):
            assert parse([*prefix, token, "x"]) is None
    # The values click passes the command when no option is given.
    assert plain.defaults == command.make_context(prefix[-1], []).params
    assert ([plain.name_param] if plain.name_param else []) == arguments


def test_help_is_clicks_on_a_wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The static help equals click's (every command, its one line as click cuts it)
    wherever click caps its width, and the table names every command."""
    from tui.cli.main import COMMAND_MODULES

    assert set(lean.COMMAND_HELP) == set(COMMAND_MODULES)
    for columns in (lean.HELP_COLUMNS, 200):
        monkeypatch.setenv("COLUMNS", str(columns))
        ctx = click.Context(cli, info_name="podium", **cli.context_settings)
        assert lean.help_text() == cli.get_help(ctx)


def test_a_narrow_terminal_gets_clicks_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(lean.HELP_COLUMNS - 1))
    assert run_lean(["--help"]) is None


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out == lean.version_text() + "\n"
    assert lean.version_text() == f"podium, version {importlib.metadata.version('podium')}"


@pytest.mark.parametrize(
    ("argv", "params"),
    [
        (["ls"], {"as_json": False, "show_all": False}),
        (["ls", "-a", "--json"], {"as_json": True, "show_all": True}),
        (["queue", "ls", "--json"], {"as_json": True}),
        (["stage", "api", "--json"], {"name": "api", "as_json": True}),
        (["stage", "--json", "api"], {"name": "api", "as_json": True}),
        (["report", "--csv"], {"by": "day", "since": None, "until": None, "tz": None}),
        (
            ["report", "--by", "model", "--tz", "Asia/Kathmandu", "--since", "2026-11-01"],
            {"by": "model", "tz": "Asia/Kathmandu", "since": "2026-11-01", "until": None},
        ),
        (["report", "--by", "week", "--by", "month"], {"by": "month"}),
    ],
)
def test_plain_forms_are_parsed(argv: list[str], params: dict[str, Any]) -> None:
    found = parse(argv)
    assert found is not None
    assert params.items() <= found[1].items()


@pytest.mark.parametrize(
    "argv",
    [
        ["ls", "--help"],
        ["ls", "-aj"],
        ["ls", "extra"],
        ["report", "--by", "fortnight"],
        ["report", "--by"],
        ["report", "--by", "--json"],
        ["report", "--since", "yesterday"],
        ["report", "--until", ""],
        ["report", "--since=2026-01-01"],
        ["report", "waste"],
        ["usage", "ingest"],
        ["queue", "show", "1"],
        ["stage", "a", "b"],
        ["stage", "-"],
        ["stage", "--", "x"],
        ["new"],
        ["lsx"],
        [],
    ],
)
def test_anything_else_is_left_to_click(argv: list[str]) -> None:
    assert parse(argv) is None


def test_window_defaults_are_the_structs() -> None:
    fields = msgspec.structs.fields(wire.UsageWindow)
    assert {
        f.name: f.default for f in fields if f.default is not msgspec.NODEFAULT
    } == reads.WINDOW_DEFAULTS


# What a fake engine answers, per method: enough for every branch to print something.
ANSWERS: dict[str, Any] = {
    "sessions.list": [
        {
            "number": 1,
            "name": "api",
            "agent": "claude",
            "state": "permission",
            "state_since": "2026-11-14T20:00:00+00:00",
            "attention": {"waited_s": 75.0},
            "pane_id": "%3",
            "cwd": "/src/api",
            "exit_code": None,
            "worktree_branch": "podium/api",
        },
        {
            "number": None,
            "name": "old",
            "agent": "sim",
            "state": "exited",
            "state_since": "2026-11-14T19:00:00+00:00",
            "attention": None,
            "pane_id": None,
            "cwd": "/tmp",
            "exit_code": 3,
        },
    ],
    "usage.windows": {
        "now": "2026-11-14T21:30:00+00:00",
        "windows": [
            msgspec.to_builtins(
                wire.UsageWindow(
                    window="five_hour",
                    used_pct=41.6,
                    resets_at="2026-11-14T23:00:00+00:00",
                    source="statusline",
                    age_s=30.0,
                    burn_pct_per_hour=7.5,
                    projected_pct_at_reset=53.0,
                )
            ),
            {"window": "seven_day", "used_pct": 9.0},
        ],
    },
    "reports.usage": {
        "tz": "UTC",
        "rows": [
            {
                "day": "2026-11-14",
                "messages": 3,
                "input_tokens": 15,
                "output_tokens": 1174,
                "cache_creation_tokens": 34113,
                "cache_read_tokens": 15128,
                "tokens": 50430,
                "cost_usd": 0.15,
                "unpriced": 1,
            }
        ],
        "total": {
            "messages": 3,
            "input_tokens": 15,
            "output_tokens": 1174,
            "cache_creation_tokens": 34113,
            "cache_read_tokens": 15128,
            "tokens": 50430,
            "cost_usd": 0.15,
            "unpriced": 1,
        },
    },
    "queue.list": {
        "tasks": [
            {
                "id": 2,
                "state": "deferred",
                "priority": 1,
                "schedule_text": "cron 0 3 * * *",
                "defer_until": "2026-11-15T03:00:00+00:00",
                "runs": 4,
                "cost_usd": 0.5,
                "created_at": "2026-11-13T03:00:00+00:00",
                "prompt": "tidy the imports\nof every module in the repository, one by one",
                "last_result": "done",
            }
        ],
        "fill": {"enabled": True, "reserve_pct": 20.0, "until": "2026-11-15T07:00:00+00:00"},
    },
    "stage.layout": {
        "window_id": "@1",
        "staged": ["api"],
        "parked": ["old"],
        "tower_pane": "%1",
        "tower_alive": False,
    },
    "stage.show": {"name": "api"},
}


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    class Client:
        sock = type("Sock", (), {"settimeout": lambda self, t: None})()

        def call(self, method: str, **params: object) -> Any:
            return ANSWERS[method]

    @contextmanager
    def engine(start: bool = True) -> Iterator[Client]:
        yield Client()

    monkeypatch.setattr(reads, "engine", engine)


PRINTED = [
    ["ls"],
    ["ls", "--all"],
    ["ls", "--json"],
    ["usage"],
    ["usage", "--json"],
    ["report"],
    ["report", "--csv"],
    ["report", "--by", "day", "--tz", "Asia/Kathmandu", "--since", "2026-11-01"],
    ["queue", "ls"],
    ["stage"],
    ["stage", "api"],
    ["stage", "--json"],
]


@pytest.mark.parametrize("argv", PRINTED)
def test_lean_prints_what_click_prints(
    argv: list[str], fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_lean(argv) == 0
    lean_out = capsys.readouterr()
    assert run(argv) == 0
    click_out = capsys.readouterr()
    assert lean_out.out
    assert (lean_out.out, lean_out.err) == (click_out.out, click_out.err)


def test_usage_windows_print_as_the_typed_ones(
    fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.format import WINDOW_HEADERS, window_cells

    result = msgspec.convert(ANSWERS["usage.windows"], wire.UsageWindows)
    now = reads.datetime.fromisoformat(result.now)
    typed = reads.table([window_cells(w, now) for w in result.windows], WINDOW_HEADERS)
    assert run_lean(["usage"]) == 0
    assert capsys.readouterr().out == typed + "\n"


def test_bad_usage_is_still_exit_2(fake_engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_lean(["report", "--json", "--csv"]) == 2
    assert capsys.readouterr().err == "podium: choose one of --json and --csv\n"


def test_a_bad_zone_is_said_as_click_says_it(
    fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "--by", "week", "--tz", "Mars/Olympus"]
    assert run_lean(argv) == 2
    lean_err = capsys.readouterr().err
    assert run(argv) == 2
    assert "Mars/Olympus" in lean_err
    assert capsys.readouterr().err == lean_err


def test_the_lean_path_loads_no_click() -> None:
    """What `podium ls` imports before it talks to the engine: no click, no msgspec, no
    tmux runner, no dataclasses (inspect), no settings."""
    code = (
        "import sys, tui.entry, tui.cli.lean, tui.cli.reads;"
        "heavy = {'click', 'msgspec', 'dataclasses', 'inspect', 'sessions.tmux',"
        " 'sessions.lifecycle', 'collectors.settings', 'importlib.metadata', 'zoneinfo'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
