"""`--model-fallback`: the task keeps it (migration 0013), the runner starts a run on
the model it is given instead of the task's own, and the run records what it ran on.

The scheduler decides when to pass the fallback; these tests drive the runner's
`start` directly, with a tmux stand-in that records the launcher it was handed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from collectors.paths import Paths
from collectors.settings import Settings
from collectors.store import open_store
from sessions import wire
from sessions.engine.events import EventBus
from sessions.engine.queue_api import _model
from sessions.fill.queue import QueueStore, Run, Task
from sessions.fill.runner import Runner, headless_argv
from sessions.fill.scheduler import Scheduler
from tui.cli.reads import model_cell


@dataclass
class _Spawned:
    window_id: str = "@7"
    pane_id: str = "%9"
    pid: int = 4242


class _Tmux:
    """Records what `spawn` was given; starts nothing."""

    def __init__(self) -> None:
        self.launched: list[list[str]] = []

    def alive(self) -> bool:
        return True

    def spawn(self, session: str, name: str, argv: list[str], cwd: str, **_: Any) -> _Spawned:
        self.launched.append(argv)
        return _Spawned()


def _runner(tmp_path: Path, store: QueueStore, tmux: _Tmux) -> Runner:
    claude = tmp_path / "claude"
    claude.write_text("#!/bin/sh\nexit 0\n")
    claude.chmod(0o755)
    (tmp_path / "run").mkdir(exist_ok=True)  # the engine makes it at its start
    settings = Settings()
    agents = msgspec.structs.replace(settings.agents, claude_bin=str(claude))

    async def blocking(fn: Any, *args: Any) -> Any:
        return fn(*args)

    return Runner(
        store,
        tmux=tmux,  # type: ignore[arg-type]
        paths=Paths(data=tmp_path / "data", runtime=tmp_path / "run"),
        agents=agents,
        fill=settings.fill,
        tmux_settings=settings.tmux,
        blocking=blocking,
        record_usage=lambda samples: None,
    )


def _spec_argv(launcher: list[str]) -> list[str]:
    return json.loads(Path(launcher[-1]).read_text())["argv"]


def test_a_run_starts_on_the_model_it_is_given_and_records_it(tmp_path: Path) -> None:
    conn = open_store(tmp_path / "podium.duckdb")
    store = QueueStore(conn)
    task = store.add(
        Task(id=0, prompt="tidy", cwd=str(tmp_path), model="opus", model_fallback="sonnet")
    )
    stored = store.get(task.id)
    assert stored is not None and (stored.model, stored.model_fallback) == ("opus", "sonnet")
    tmux = _Tmux()
    runner = _runner(tmp_path, store, tmux)

    first = asyncio.run(runner.start(stored))  # the task's own model
    fallback = asyncio.run(runner.start(stored, model=stored.model_fallback))
    argvs = [_spec_argv(launched) for launched in tmux.launched]
    assert [a for a in argvs[0] if a.startswith("--model")] == ["--model=opus"]
    assert [a for a in argvs[1] if a.startswith("--model")] == ["--model=sonnet"]
    assert [r.model for r in store.runs(task.id)] == ["opus", "sonnet"]
    assert (first.model, fallback.model) == ("opus", "sonnet")
    assert [r.to_wire().model for r in store.runs(task.id)] == ["opus", "sonnet"]
    conn.close()
    # Reopened: the columns are the database's, not the process's.
    conn = open_store(tmp_path / "podium.duckdb")
    again = QueueStore(conn)
    assert again.get(task.id).model_fallback == "sonnet"  # type: ignore[union-attr]
    assert [r.model for r in again.runs(task.id)] == ["opus", "sonnet"]
    conn.close()


def test_a_task_on_the_default_model_records_none(tmp_path: Path) -> None:
    conn = open_store(tmp_path / "podium.duckdb")
    store = QueueStore(conn)
    task = store.add(Task(id=0, prompt="tidy", cwd=str(tmp_path)))
    tmux = _Tmux()
    run = asyncio.run(_runner(tmp_path, store, tmux).start(task))
    assert not [a for a in _spec_argv(tmux.launched[0]) if a.startswith("--model")]
    assert run.model is None and store.runs(task.id)[0].model is None
    conn.close()


@pytest.mark.parametrize("model", ["--dangerously-skip-permissions", "sonnet --verbose", "-p"])
def test_a_fallback_rides_inside_its_option(model: str) -> None:
    """As the task's own model: a value that looks like an option stays a value."""
    task = Task(id=1, prompt="p", cwd="/", model="opus")
    argv = headless_argv(task, "/bin/claude", resume_id=None, model=model)
    assert argv[4:] == [f"--model={model}"]
    assert "--dangerously-skip-permissions" not in argv and argv.count("-p") == 1


def test_blank_models_are_the_default() -> None:
    assert _model(None) is None and _model("") is None and _model("   ") is None
    assert _model(" sonnet ") == "sonnet"


def test_queue_ls_model_column() -> None:
    task = msgspec.to_builtins(wire.Task(id=1, prompt="p", cwd="/", model="opus"))
    assert model_cell(task) == "opus"
    task["model_fallback"] = "sonnet"
    assert model_cell(task) == "opus→sonnet"
    task["last_run"] = msgspec.to_builtins(
        wire.RunRecord(id=3, task_id=1, attempt=1, state="done", model="sonnet")
    )
    assert model_cell(task) == "sonnet"  # what it ran on, once it ran
    assert model_cell(msgspec.to_builtins(wire.Task(id=2, prompt="p", cwd="/"))) == "-"


class _Runner:
    """What the scheduler asks of a runner here: start (recorded) and its callbacks."""

    def __init__(self) -> None:
        self.on_change: list[Any] = []
        self.on_retry: list[Any] = []
        self.started: list[tuple[int, str | None]] = []

    async def start(self, task: Task, *, model: str | None = None) -> None:
        self.started.append((task.id, model))

    def spend(self, run_id: int) -> None:
        return None  # nothing read from its stream yet


class _Usage:
    """The Opus week full, every other window with room."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def windows(self, now: datetime | None = None) -> list[wire.UsageWindow]:
        week = (self.now + timedelta(days=3)).isoformat()
        five = (self.now + timedelta(hours=3)).isoformat()

        def w(name: str, pct: float, resets: str) -> wire.UsageWindow:
            return wire.UsageWindow(window=name, used_pct=pct, resets_at=resets, source="endpoint")

        return [
            w("five_hour", 5.0, five),
            w("seven_day", 20.0, week),
            w("seven_day_opus", 100.0, week),
            w("seven_day_sonnet", 10.0, week),
        ]

    def capacity(self, window: str) -> float:
        return 1_000_000.0 if window == "five_hour" else 10_000_000.0


class _Registry:
    def listed(self) -> list[Any]:
        return []


def test_the_scheduler_launches_on_the_fallback_when_the_policy_says_so(tmp_path: Path) -> None:
    """End to end through the live scheduler: a task queued `--model opus
    --model-fallback sonnet` while the Opus week is full is launched on sonnet."""
    conn = open_store(tmp_path / "podium.duckdb")
    store = QueueStore(conn)
    task = store.add(
        Task(id=0, prompt="port it", cwd=str(tmp_path), model="opus", model_fallback="sonnet")
    )
    # The same task without a fallback waits for the Opus week.
    held = store.add(Task(id=0, prompt="port it", cwd=str(tmp_path), model="opus"))
    store.set_state("fill_enabled", True)
    runner = _Runner()
    now = datetime.now(UTC)

    async def blocking(fn: Any, *args: Any) -> Any:
        return fn(*args)

    settings = msgspec.structs.replace(Settings().fill, reserve_pct=0.0)
    sched = Scheduler(
        store,
        runner,  # type: ignore[arg-type]
        conn=conn,
        registry=_Registry(),  # type: ignore[arg-type]
        usage=_Usage(now),
        bus=EventBus(),
        settings=settings,
        blocking=blocking,
        spawn=None,  # type: ignore[arg-type]
    )
    decisions = sched.decide(now)
    launch = [d for d in decisions if d.action == "launch"]
    assert [(d.task_id, d.model) for d in launch] == [(str(task.id), "sonnet")], decisions
    for d in launch:
        asyncio.run(sched._act(d))
    assert runner.started == [(task.id, "sonnet")]
    assert str(held.id) not in {d.task_id for d in launch}
    # Running on sonnet, it spends the Sonnet week, not the full Opus one: not paused.
    store.add_run(Run(0, task.id, 1, "running", now, model="sonnet"))
    store.update(task, state="running", attempts=1)
    later = sched.decide(now + timedelta(minutes=1))
    assert not [d for d in later if d.task_id == str(task.id) and d.action == "pause"], later
    conn.close()
