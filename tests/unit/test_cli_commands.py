"""The command line: its lazy command table, bad usage (exit 2, one line, before any
engine is asked), and what its human output says."""

from __future__ import annotations

import importlib
import pkgutil
import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import click
import msgspec
import pytest

import tui.cli
from sessions import wire
from sessions.fill.task_options import ToolRuleError, parse_tool_rules
from sessions.protocol import ApiError
from tui import format
from tui.cli import common, demo_cmd, queue_cmds
from tui.cli.fill_cmd import _follow
from tui.cli.main import COMMAND_MODULES, cli, run
from tui.format import waste_total


def test_lazy_table_matches_the_modules() -> None:
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(tui.cli.__path__):
        module = importlib.import_module(f"tui.cli.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            attr = next(k for k, v in vars(module).items() if v is command)
            found[command.name] = (info.name, attr)
    assert found == COMMAND_MODULES


def test_every_command_loads() -> None:
    for name in COMMAND_MODULES:
        assert cli.get_command(None, name).name == name  # type: ignore[arg-type]
    assert cli.get_command(None, "no-such") is None  # type: ignore[arg-type]


@pytest.fixture
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process in Paris time: local times differ from UTC, as for most people."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_fill_follows_typed_events_until_switched_off(capsys, paris: None) -> None:
    """`podium fill` in the foreground prints the rounds' decisions and ended runs
    from the event stream, each at its local time, and returns when fill is switched
    off elsewhere."""
    at = datetime.now(UTC).replace(microsecond=0)
    events = [
        wire.FillEvent(
            data=wire.FillChange(
                kind="decisions",
                at=at.isoformat(),
                decisions=[wire.Decision(action="run", task_id=3, reason="spare capacity")],
            )
        ),
        wire.QueueEvent(
            data=wire.QueueChange(
                run=wire.RunRecord(id=5, task_id=3, attempt=1, state="done", total_cost_usd=0.25)
            )
        ),
        wire.FillEvent(data=wire.FillChange(kind="switch", enabled=False)),
        wire.TmuxEvent(data=wire.TmuxState(alive=True, socket="never read")),
    ]
    stream = SimpleNamespace(events=lambda: iter(events))
    _follow(stream, None, as_json=False)
    out = capsys.readouterr().out.splitlines()
    local = at.astimezone(ZoneInfo("Europe/Paris"))
    assert out[0].startswith(f"{local:%H:%M:%S} run") and "task 3" in out[0], out[0]
    assert out[1] == "run 5 of task 3: done, $0.2500"
    assert len(out) == 2  # stopped at the switch


# -- bad usage: exit 2, one line, before any engine is asked ----------------------------------
@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private podium whose engine must never be asked: a command that reaches it fails
    the test (bad usage is refused before that)."""
    for name, sub in (("PODIUM_DATA_DIR", "data"), ("PODIUM_RUNTIME_DIR", "run")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.setenv("PODIUM_CONFIG", str(tmp_path / "config.toml"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine was asked")

    monkeypatch.setattr(common, "try_connect", refuse)
    monkeypatch.setattr(common, "connect", refuse)
    return tmp_path


FILE = "{tmp}/a-file"
MISSING = "{tmp}/missing"

BAD_USAGE: list[tuple[list[str], str]] = [
    (["no-such-command"], "no such command 'no-such-command'"),
    (["queue", "add"], "give the prompt: PROMPT, - to read stdin, or --prompt-file FILE"),
    (["queue", "add", " \n "], "the prompt is empty"),
    (["queue", "add", "x", "--cron", "0 25 * * *"], "hour 25 is outside 0-23"),
    (["queue", "add", "x", "--cron", "1 2 3"], "it needs 5"),
    (["queue", "add", "x", "--cron", "0 0 31 2 *"], "never matches a date"),
    (
        ["queue", "add", "x", "--window", "lunch"],
        "unknown window 'lunch'; the windows podium knows are 'night' and 'day'",
    ),
    (["queue", "add", "x", "--at", "next tuesday"], "cannot read the time 'next tuesday'"),
    (["team", "fix it"], "missing option '--budget'"),
    (["team", "fix it", "--budget", "lots"], "cannot read the amount"),
    (["team", "fix it", "--budget", "5%week", "--until", "soon"], "cannot read the time 'soon'"),
    (["queue", "add", "x", "--at", "25:00"], "cannot read the clock time '25:00'"),
    (["queue", "add", "x", "--on-change", "src/[oops"], "never closed"),
    (["queue", "add", "x", "--on-change", "../*.py"], "must be relative"),
    (["queue", "add", "x", "--cron", "* * * * *", "--window", "night"], "give one schedule"),
    (["queue", "add", "x", "--permission-mode", "yolo"], "'yolo' is not one of"),
    (["queue", "add", "x", "--allowed-tools", "Bash(git *"], "'(' that is never closed"),
    (["queue", "add", "x", "--allowed-tools", "Edit)"], "closes a ')' never opened"),
    (["queue", "add", "x", "--max-turns", "0"], "'--max-turns': 0 is not in the range"),
    (["queue", "add", "x", "--budget-usd", "0"], "'--budget-usd': 0.0 is not in the range"),
    (["queue", "add", "x", "--priority", "high"], "'high' is not a valid integer"),
    (["queue", "add", "x", "--cwd", MISSING], "does not exist"),
    (["queue", "show", "abc"], "'abc' is not a task number"),
    (["queue", "show", "0"], "'0' is not a task number"),
    (["queue", "log", "x"], "'x' is not a task number"),
    (["queue", "log", "3", "--run", "last"], "'last' is not a valid integer"),
    (["queue", "cancel", "#x"], "'#x' is not a task number"),
    (["queue", "priority", "3", "high"], "'high' is not a valid integer"),
    (["report", "--since", "2026-13-01"], "bad date '2026-13-01'"),
    (["report", "--until", "yesterday"], "bad date 'yesterday'"),
    (["report", "--tz", "Mars/Base"], "unknown time zone 'Mars/Base'"),
    (["report", "--by", "colour"], "'colour' is not one of"),
    (["report", "--json", "--csv"], "choose one of --json and --csv"),
    (["report", "waste", "--window", "lunch"], "unknown window 'lunch'"),
    (["report", "waste", "--since", "x"], "bad date 'x'"),
    (["report", "waste", "--tz", "CEST"], "unknown time zone 'CEST'"),
    (["report", "attention", "--since", "2026-02-30"], "bad date '2026-02-30'"),
    (["report", "runs", "--since", "last week"], "bad date 'last week'"),
    (["fill", "--until", "soon"], "cannot read the time 'soon'"),
    (["fill", "--reserve", "150"], "'--reserve': 150.0 is not in the range"),
    (["fill", "--dry-run", "--until", "07:00"], "takes no --until"),
    (["new", "--agent", "robot"], "'robot' is not one of"),
    (["new", "--cwd", MISSING], "does not exist"),
    (["new", "--cmd", "vim 'unclosed"], "cannot split"),
    (["new", "--cmd", "  "], "the command is empty"),
    (["new", "--branch", "b"], "--branch needs --worktree"),
    (["up", "--json"], "add --no-attach"),
    (["stage", "a", "b"], "unexpected extra argument"),
    (["export", "--parquet", FILE], "is a file"),
    (["simulate", "--scenario", MISSING], "does not exist"),
    (["simulate", "--scenario", FILE, "--policy", "best"], "'best' is not one of"),
    (["usage", "ingest", "--claude-dir", MISSING], "no such directory"),
    (["queue", "add", "x", "--priority", "99999999999999999999"], "is not in the range"),
    (["queue", "add", "x", "--max-turns", "4294967296"], "is not in the range"),
    (["queue", "priority", "1", "99999999999999999999"], "is not in the range"),
    (["queue", "add", "x", "--prompt-file", "{tmp}/a-file"], "give PROMPT or --prompt-file"),
    (["queue", "add", "--prompt-file", MISSING], "does not exist"),
    (["queue", "add", "x", "--after", "3,four"], "'four' is not a task id"),
    (["queue", "add", "x", "--after", "0"], "'0' is not a task id"),
]


@pytest.mark.parametrize(("argv", "said"), BAD_USAGE, ids=[" ".join(a) for a, _ in BAD_USAGE])
def test_bad_usage_exits_2_with_one_line(
    no_engine: Path, argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (no_engine / "a-file").write_text("not a directory")
    argv = [a.format(tmp=no_engine) for a in argv]
    assert run(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith("podium: ") and out.err.count("\n") == 1, out.err
    assert said.format(tmp=no_engine) in out.err, out.err


def _all_commands() -> list[list[str]]:
    found: list[list[str]] = [[]]

    def walk(group: click.Group, path: list[str]) -> None:
        for name in group.list_commands(click.Context(group)):
            command = group.get_command(click.Context(group), name)
            assert command is not None
            found.append([*path, name])
            if isinstance(command, click.Group):
                walk(command, [*path, name])

    walk(cli, [])
    return found


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _all_commands()
    assert ["queue", "add"] in commands and ["report", "waste"] in commands
    for path in commands:
        assert run([*path, "--help"]) == 0, path
        assert "Usage: podium" in capsys.readouterr().out, path


def test_an_engine_refusal_of_a_value_is_bad_usage_and_of_a_state_a_failure() -> None:
    assert common.api_exit_code(ApiError("bad_request", "fill --until 01:00 is already past")) == 2
    for code in ("not_found", "conflict", "refused", "gone", "cannot_start", "tmux_gone"):
        assert common.api_exit_code(ApiError(code, "...")) == 1, code


# -- allowed tools -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("Bash(git *) Edit", ["Bash(git *)", "Edit"]),
        ("Read,Edit  Bash(npm run test:*)", ["Read", "Edit", "Bash(npm run test:*)"]),
        ("Bash(echo (a, b)),Edit", ["Bash(echo (a, b))", "Edit"]),
        ("  Edit\tEdit\n", ["Edit"]),
        (
            "mcp__server__tool WebFetch(domain:example.com)",
            ["mcp__server__tool", "WebFetch(domain:example.com)"],
        ),
        ("", []),
    ],
)
def test_tool_rules_split_outside_parentheses_only(text: str, rules: list[str]) -> None:
    assert parse_tool_rules(text) == rules


@pytest.mark.parametrize("text", ["Bash(git *", "Bash(git *))", "(git *)", "Bash(x)Edit", "Edit)"])
def test_unbalanced_tool_rules_are_refused(text: str) -> None:
    with pytest.raises(ToolRuleError):
        parse_tool_rules(text)


def test_allowed_tools_reach_the_engine_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`queue add --allowed-tools` sends each rule whole, repeated options adding up."""
    calls: list[tuple[str, dict[str, object]]] = []

    class Client:
        def call(self, method: str, **params: object) -> dict[str, object]:
            calls.append((method, params))
            return {"id": 1, "state": "queued", "enabled": True}

    @contextmanager
    def fake_engine(start: bool = True) -> Iterator[Client]:
        yield Client()

    monkeypatch.setattr(queue_cmds, "engine", fake_engine)
    argv = ["queue", "add", "x", "--cwd", str(tmp_path), "--allowed-tools", "Bash(git *) Edit"]
    assert run([*argv, "--allowed-tools", "Read,Edit"]) == 0
    assert calls[0][0] == "queue.add"
    assert calls[0][1]["allowed_tools"] == ["Bash(git *)", "Edit", "Read"]


# -- human output ---------------------------------------------------------------------------
NOW = datetime(2026, 11, 14, 21, 30, tzinfo=UTC)  # a Saturday; 22:30 in Paris


@pytest.mark.parametrize(
    ("when", "shown"),
    [
        ("2026-11-14T20:00:00+00:00", "21:00"),  # today, in Paris time
        ("2026-11-14T23:30:00+00:00", "Sun 00:30"),  # tomorrow there
        ("2026-11-17T03:00:00+00:00", "Tue 04:00"),  # the coming Tuesday
        ("2026-11-10T03:00:00+00:00", "Nov 10 04:00"),  # last Tuesday: a date, not "Tue"
        ("2026-10-01T10:00:00+00:00", "Oct 1 12:00"),
        ("2025-11-01T10:00:00+00:00", "2025-11-01 11:00"),
        (None, "-"),
        ("", "-"),
        ("not a time", "not a time"),
    ],
)
def test_times_are_local_and_short(when: str | None, shown: str) -> None:
    assert format.clock(when, NOW, ZoneInfo("Europe/Paris")) == shown


def test_percentages_are_never_none() -> None:
    assert [format.percent(v) for v in (None, "x", True, 41.6, 0)] == ["-", "-", "-", "42%", "0%"]


# Every field `queue show --json` has, with a value whose text `queue show` must print.
TASK_SHOWN: dict[str, tuple[object, str]] = {
    "id": (7, "task 7"),
    "prompt": ("fix the\nflaky test", "fix the\n              flaky test"),
    "cwd": ("/src/api", "/src/api"),
    "agent": ("claude", "agent claude"),
    "worktree": (True, "its own, at /src/api.worktrees/queue-7"),
    "worktree_path": ("/src/api.worktrees/queue-7", "/src/api.worktrees/queue-7"),
    "priority": (5, "priority 5"),
    "model": ("opus", "model       opus"),
    "model_fallback": ("sonnet", "model       opus, else sonnet"),
    "max_turns": (20, "max turns   20"),
    "budget_usd": (2.5, "$2.5"),
    "est_pct": (4.0, "~4% of the 5-hour window"),
    "allowed_tools": (["Bash(git *)", "Edit"], "tools       Bash(git *), Edit"),
    "permission_mode": ("acceptEdits", "permission  acceptEdits"),
    "schedule_kind": ("cron", "cron 0 3 * * 1-5"),
    "schedule": ("0 3 * * 1-5", "cron 0 3 * * 1-5"),
    "not_before": ("2026-11-15T02:00:00+00:00", "not before  Sun 03:00 (in 4h30m)"),
    "defer_until": ("2026-11-15T04:00:00+00:00", "deferred    until Sun 05:00"),
    "state": ("deferred", "task 7  deferred"),
    "parent_id": (3, "task 3 (an occurrence of it)"),
    "kind": ("copy", "task 3 (an occurrence of it)"),
    "paused_by": ("you", "paused      by you, "),
    "paused_at": ("2026-11-14T21:00:00+00:00", "by you, 22:00 (30m ago)"),
    "claude_session_id": ("5764008a-f82f-46dd-80a9-0507eb7b5e25", "session     5764008a-"),
    "attempts": (2, "2 attempt(s)"),
    "last_result": ("limit reached", "last result limit reached"),
    "created_at": ("2026-11-14T20:00:00+00:00", "created     21:00 (1h30m ago)"),
    "updated_at": ("2026-11-14T21:00:00+00:00", "updated 22:00"),
    "schedule_text": ("cron 0 3 * * 1-5", "schedule    cron 0 3 * * 1-5"),
    "runs": (1, "1 run(s)"),
    "last_run": (None, "run 11 (task 7, attempt 2)"),  # the last of the runs listed
    "cost_usd": (0.125, "$0.1250 in all"),
    "budget": ("30%5h", "budget      30%5h (the run is stopped there)"),
    "estimate": ("2%week", "estimate 2%week"),
    "timeout_s": (2700, "timeout     45m of wall-clock time"),
    "after": (
        [wire.TaskDep(id=3, state="failed", last_result="boom"), wire.TaskDep(id=4, state="done")],
        "after       task 3 failed, task 4 done",
    ),
    "before": ([wire.TaskDep(id=9, state="queued")], "before      task 9 queued"),
    "waits": ("after task 3, which failed: boom", "waits       after task 3, which failed: boom"),
    "team_id": (2, "team        2 (`podium team list`)"),
    "not_after": ("2026-11-15T06:00:00+00:00", "starts not after Sun 07:00"),
    "continues_id": (3, "continues   task 3's Claude session"),
}
RUN_SHOWN: dict[str, tuple[object, str]] = {
    "id": (11, "run 11"),
    "task_id": (7, "(task 7,"),
    "attempt": (2, "attempt 2)"),
    "state": ("limited", "attempt 2): limited"),
    "started_at": ("2026-11-14T20:10:00+00:00", "started 21:10"),
    "ended_at": ("2026-11-14T20:12:00+00:00", "ended 21:12"),
    "argv": (
        ["claude", "-p", "--allowedTools=Bash(git *)", "--", "fix"],
        "'--allowedTools=Bash(git *)' -- fix",
    ),
    "cwd": ("/src/api.worktrees/queue-7", "where   /src/api.worktrees/queue-7"),
    "resumed_from": ("11111111-2222-3333-4444-555555555555", "resuming 11111111-"),
    "window_id": ("@4", "tmux window @4"),
    "pane_id": ("%9", "pane %9"),
    "pid": (4242, "pid 4242"),
    "stream_path": ("/data/queue/run-11.jsonl", "stream  /data/queue/run-11.jsonl"),
    "stream_offset": (12345, "(12,345 bytes read)"),
    "claude_session_id": ("66666666-7777-8888-9999-000000000000", "session 66666666-"),
    "exit_code": (0, "exit 0"),
    "subtype": ("error_during_execution", "outcome error_during_execution"),
    "is_error": (True, "error yes"),
    "api_error_status": (429, "HTTP 429"),
    "terminal_reason": ("rate_limited", ", rate_limited;"),
    "num_turns": (3, "3 turn(s)"),
    "total_cost_usd": (0.125, "cost $0.1250"),
    "input_tokens": (1200, "1,200 in"),
    "output_tokens": (340, "340 out"),
    "cache_creation_tokens": (5000, "5,000 cache write"),
    "cache_read_tokens": (90000, "90,000 cache read"),
    "duration_ms": (123000, "took 2m"),
    "resets_at": ("2026-11-15T00:00:00+00:00", "limit   resets Sun 01:00"),
    "result": ("5-hour limit reached", "result  5-hour limit reached"),
    "retrying": (
        wire.RetryInfo(
            attempt=3,
            max_retries=10,
            status=529,
            error="overloaded",
            next_at="2026-11-14T21:30:40+00:00",
            since="2026-11-14T21:29:00+00:00",
        ),
        "retrying HTTP 529 overloaded, retry 3/10, next in 40s",
    ),
    "reason": ("usage limit until 00:00Z", "attempts    2: usage limit until 00:00Z"),
    "model": ("sonnet", "model   sonnet"),
}


def test_queue_show_prints_every_field_its_json_has(paris: None) -> None:
    """A field added to the wire records fails here until `queue show` prints it."""
    fields = {f.name for f in msgspec.structs.fields(wire.Task)}
    assert set(TASK_SHOWN) == fields, fields ^ set(TASK_SHOWN)
    assert set(RUN_SHOWN) == {f.name for f in msgspec.structs.fields(wire.RunRecord)}
    run_record = wire.RunRecord(**{k: v for k, (v, _) in RUN_SHOWN.items()})
    values = {k: v for k, (v, _) in TASK_SHOWN.items()} | {"last_run": run_record}
    child = wire.TaskRecord(id=8, prompt="p", cwd="/src/api", state="queued", parent_id=7)
    shown = wire.QueueShow(task=wire.Task(**values), runs=[run_record], occurrences=[child])
    text = "\n".join(queue_cmds.show_lines(msgspec.to_builtins(shown), NOW))
    for name, (_, said) in [*TASK_SHOWN.items(), *RUN_SHOWN.items()]:
        assert said in text, f"{name}: {said!r} not in\n{text}"
    assert "occurrences task 8 queued" in text
    assert "None" not in text and "T20:" not in text  # no raw values, no ISO times


def test_queue_show_of_a_new_task_says_what_is_not_there_yet(paris: None) -> None:
    task = wire.Task(id=1, prompt="p", cwd="/w", created_at="2026-11-14T20:00:00+00:00")
    text = "\n".join(queue_cmds.show_lines(msgspec.to_builtins(wire.QueueShow(task, [], [])), NOW))
    assert "schedule    now: as soon as fill runs it" in text
    assert "tools       none beyond Claude Code's defaults" in text
    assert "session     - (none yet)" in text and "None" not in text


def test_waste_totals_read_as_a_sentence() -> None:
    total = wire.WasteTotal(
        windows_ended=24,
        unused_at_reset_pct=996.0,
        unused_at_reset_windows=9.96,
        unused_at_reset_mean_pct=41.5,
        area_pct_hours=29808.0,
        window_equivalents=59.62,
        coverage=0.998,
        idle_minutes=13366,
    )
    line = waste_total("five_hour", total)
    assert line == (
        "5-hour: 24 resets, leaving 9.96 windows' worth unused (42% of each on average); "
        "free over time 29,808 %·h = 59.62 windows' worth; the engine saw 100%, "
        "and 9d6h with no window open (nothing used)"
    )
    none_ended = msgspec.structs.replace(
        total, windows_ended=0, unused_at_reset_mean_pct=None, idle_minutes=0
    )
    assert waste_total("seven_day", none_ended).startswith(
        "week: none reset in the period; free over time"
    )


# -- the demo's stop command ------------------------------------------------------------------
def test_demo_prints_a_stop_command_that_works_where_it_was_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    own = demo_cmd.podium_command()
    # Started by scripts/demo: that script, by its absolute path (spaces quoted).
    monkeypatch.setenv(demo_cmd.LAUNCHER_ENV, "/home/me/my repo/scripts/demo")
    assert demo_cmd.stop_command() == "'/home/me/my repo/scripts/demo' --stop"
    monkeypatch.delenv(demo_cmd.LAUNCHER_ENV)
    # `podium` on PATH is this podium (a symlink to it, as uv and pipx make): its name.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "podium").symlink_to(own[0])
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert demo_cmd.stop_command() == "podium demo --stop"
    # Another podium, or none, on PATH: this one's absolute path.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert demo_cmd.stop_command() == shlex.join([*own, "demo", "--stop"])
    assert Path(own[0]).is_absolute()
