"""Background runs: a queued task as `claude -p … --output-format stream-json --verbose`.

Each run starts in a window of podium's tmux server through `sessions.launch`
(argv, environment and directory in a 0600 spec file; the prompt goes on the
agent's stdin from `<data>/queue/run-<id>.prompt`, so it reaches the agent byte
for byte, whatever its size, and no shell or command line sees it). The agent's
stdout is appended to `<data>/queue/run-<id>.jsonl`; a viewer child of the
launcher prints a readable line per event in the pane, and the agent's stderr
goes to the pane too, so a person can watch.

The engine tails that file (complete lines from a byte offset kept in
`queue_runs.stream_offset`): every line goes to the usage monitor (its
`rate_limit_event`s are limit samples), the init line gives the Claude session
id, and the final `result` line's cost, tokens, turns, `is_error`,
`api_error_status` and `terminal_reason` are stored; every line also goes to the
run's spend (`sessions.fill.spend`, read through `Runner.spend`), and a run past its
task's budget or timeout is stopped with the reason (`_over_limits`). A result that hit a usage
limit defers the task to the reset (the `rate_limit_event`'s `resetsAt`, else
the limit text's time); the scheduler later launches it again with
`--resume <session id>`. Claude Code's own retries (`api_retry` lines) are
`sessions.fill.retrying`'s: shown, or, for a rate limit, stopped at the first;
so are a task's further attempts. Runs survive an engine restart: a live pane
is adopted again and read on from its offset; a vanished one is `interrupted`
and its task tried again (resumed when its session id is known).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collectors import safe_json
from collectors.limits import LimitSample, samples_from_stream_json_line
from collectors.paths import Paths, UnsafePath, ensure_private_dir
from collectors.settings import AgentSettings, FillSettings, TmuxSettings
from collectors.tail import Cursor, read_lines
from sessions import wire
from sessions.agent_env import agent_env
from sessions.agents import (
    AgentError,
    claude_config_dir,
    claude_session_id,
    has_transcript,
    resolve_bin,
    resume_arg,
)
from sessions.claude_settings import mcp_env, write_mcp_config
from sessions.engine.parts import Blocking
from sessions.fill import retrying
from sessions.fill.amount import Amount, parse_amount
from sessions.fill.delegation import Child, Spent, committed_units
from sessions.fill.graph import prompt_with_results
from sessions.fill.queue import FINAL_TASK_STATES, QueueStore, Run, Task
from sessions.fill.spend import RunSpend, SpendFollower
from sessions.launch import read_failure, write_spec
from sessions.tmux import PaneInfo, Tmux, TmuxError, TmuxServerGone
from sessions.worktree import WorktreeError
from sessions.worktree import create as create_worktree

log = logging.getLogger("podium.fill.runner")
# Stream files reported as unreadable (said once each).
_unreadable: set[str] = set()


def _lines(cursor: Cursor) -> Iterator[bytes]:
    """New lines of a run's stream file; none when it cannot be read (gone, or not a
    regular file: a FIFO put in its place must not block the engine)."""
    try:
        yield from read_lines(Path(cursor.path), cursor)
    except OSError as exc:
        if cursor.path not in _unreadable:
            _unreadable.add(cursor.path)
            log.warning("run stream %s cannot be read: %s", cursor.path, exc)


# While runs are live the stream files are read this often (seconds). Their panes'
# deaths come from the engine's tmux sweep (`after_sweep`), not from a poll here.
POLL = 0.5
UNKNOWN_RESET = retrying.UNKNOWN_RESET


class LaunchFailed(Exception):
    """A task that cannot start; the message is its outcome."""


class LaunchWaits(Exception):
    """A task that cannot start yet (no tmux server to start it in); it stays queued."""


# How long a task waits for podium's tmux server before it is tried again.
SERVER_WAIT = timedelta(minutes=1)
_NO_SERVER = (
    "podium's tmux server exited and podium starts no other by itself: "
    "`podium up` or `podium new` starts it, then the task runs"
)


def headless_argv(
    task: Task,
    claude_bin: str,
    *,
    resume_id: str | None,
    model: str | None = None,
    session_id: str | None = None,
    mcp_config: Path | None = None,
) -> list[str]:
    """The agent's headless argv. The prompt is not in it: it goes on stdin (see
    `Runner._launch`), as one argument may hold at most 128 KiB (Linux's
    MAX_ARG_STRLEN) and a longer prompt made exec fail with E2BIG (exit 126).

    `model` runs it on another model than the task's own (its `model_fallback`,
    when the scheduler says the task's model's week is short). Every value rides
    in its option as `--opt=value`, so none (a model named
    `--dangerously-skip-permissions`, say) can be read as an option. A
    `resume_id` that is not a Claude session id raises `AgentError`. A new run gets
    the `session_id` podium chose (`--session-id`): its messages are known as fill's
    from the first one, before the stream's init line is read, so the forecast never
    takes them for the person's.
    """
    argv = [claude_bin, "-p", "--output-format=stream-json", "--verbose"]
    if model or task.model:
        argv.append(f"--model={model or task.model}")
    if task.max_turns is not None:
        argv.append(f"--max-turns={task.max_turns}")
    if task.budget_usd is not None:
        argv.append(f"--max-budget-usd={task.budget_usd:g}")
    if task.permission_mode:
        argv.append(f"--permission-mode={task.permission_mode}")
    # Repeated, one tool each: the CLI adds them up.
    argv += [f"--allowedTools={tool}" for tool in task.allowed_tools]
    if resume_id:
        argv.append(resume_arg(resume_id))
    elif session_id:
        if claude_session_id(session_id) is None:
            raise AgentError(f"refusing session id {session_id!r}: not a UUID")
        argv.append(f"--session-id={session_id}")
    if mcp_config is not None:
        # podium's tools (`podium mcp`), from podium's own file: see `write_mcp_config`.
        argv.append(f"--mcp-config={mcp_config}")
    return argv


class Runner:
    def __init__(
        self,
        store: QueueStore,
        *,
        tmux: Tmux,
        paths: Paths,
        agents: AgentSettings,
        fill: FillSettings,
        tmux_settings: TmuxSettings,
        blocking: Blocking,
        record_usage: Callable[[list[LimitSample]], object],
        may_start_server: Callable[[], bool] = lambda: True,
        full_until: Callable[[datetime], datetime | None] = lambda now: None,
        capacity: Callable[[str], float] | None = None,
    ) -> None:
        self.store = store
        self.tmux = tmux
        self.paths = paths
        self.agents = agents
        self.fill = fill
        self.tmux_settings = tmux_settings
        self.blocking = blocking
        self.record_usage = record_usage
        # Whether a run may start podium's tmux server when none runs: not after one
        # exited under the engine (it is reported; a person starts the next one).
        self.may_start_server = may_start_server
        # When the official figures say the account can work again (`UsageMonitor`).
        self.full_until = full_until
        # Weighted tokens of a full window (`UsageMonitor.capacity`): what a budget such as
        # `5%week` is in tokens. None (a test's runner): share budgets are not checked.
        self.capacity = capacity
        # Each live run's spend, from its stream (`Runner.spend`), and its task's limits.
        self._spend: dict[int, SpendFollower] = {}
        self._limits: dict[int, _Limits] = {}
        self.dir = paths.data / "queue"
        self._cursors: dict[int, Cursor] = {}
        # resetsAt of a rejected rate_limit_event, per run, until its result comes.
        self._rejected_until: dict[int, datetime] = {}
        # The last api_retry of each live run in Claude Code's retry loop, and when that
        # loop began; cleared by the next line that is not one (the retry got through).
        self._retries: dict[int, tuple[retrying.ApiRetry, datetime]] = {}
        self._wake = asyncio.Event()
        self.on_change: list[Any] = []  # callbacks(run) after a run ended
        self.on_retry: list[Any] = []  # callbacks(run) when its retrying changed
        # Runs already settled: a cancel and the follower may both get to one.
        self._settled: set[int] = set()
        # The engine sweep's last panes, and when its `list-panes` began (monotonic).
        self._panes: dict[str, PaneInfo] = {}
        self._panes_taken: float | None = None
        # When each run started here (monotonic): a sweep older than that has not seen
        # its pane, so it says nothing of it. Runs adopted at start are not in it.
        self._started: dict[int, float] = {}
        self._launching: set[int] = set()  # runs added whose pane does not exist yet

    # -- starting ---------------------------------------------------------------------------
    async def start(self, task: Task, *, model: str | None = None) -> Run:
        """Launch one run of `task` (resuming its Claude session when it has one), on
        `model` instead of the task's own when given (the scheduler passes the task's
        `model_fallback`); the run records the model it ran on."""
        cwd = Path(task.worktree_path or task.cwd)
        if not Path(task.cwd).is_dir():
            raise LaunchFailed(f"its directory {task.cwd} is gone")
        if task.worktree and not task.worktree_path:
            try:
                wt = await self.blocking(create_worktree, Path(task.cwd), f"queue-{task.id}", None)
            except WorktreeError as exc:
                raise LaunchFailed(f"cannot make its worktree: {exc}") from None
            self.store.update(task, worktree_path=str(wt.path))
            cwd = wt.path
        if not cwd.is_dir():
            raise LaunchFailed(f"its directory {cwd} is gone")
        claude = resolve_bin(self.agents.claude_bin)
        if claude is None:
            raise LaunchFailed(
                f"cannot start claude: {self.agents.claude_bin!r} not found; "
                "set agents.claude_bin in podium's config"
            )
        may_start = self.may_start_server()
        if not may_start and not await self.blocking(self.tmux.alive):
            raise LaunchWaits(_NO_SERVER)
        resume_id = task.claude_session_id
        # A resumed run's conversation already holds what its dependencies gave it;
        # but a continuation's first run (a lead's, `continues_id`) resumes another
        # task's session to hand it those results: its own prompt, with them.
        first_of_continuation = task.continues_id is not None and task.attempts == 0
        if resume_id and not first_of_continuation:
            prompt = self.fill.resume_prompt
        else:
            prompt = self._with_results(task)
        new_id = None if resume_id else str(uuid.uuid4())
        try:
            argv = headless_argv(
                task,
                claude,
                resume_id=resume_id,
                model=model,
                session_id=new_id,
                mcp_config=self._mcp_config(),
            )
        except AgentError as exc:
            raise LaunchFailed(str(exc)) from None
        ensure_private_dir(self.dir)
        run = self.store.add_run(
            Run(
                id=0,
                task_id=task.id,
                attempt=task.attempts + 1,
                state="running",
                started_at=datetime.now(UTC),
                argv=argv,
                cwd=str(cwd),
                resumed_from=resume_id,
                claude_session_id=resume_id or new_id,
                model=model or task.model,
            )
        )
        # Until its pane exists the run is launching: a sweep cannot have seen it, and
        # one whose `list-panes` ran meanwhile must not call it gone (`_pane_of`).
        self._launching.add(run.id)
        try:
            return await self._launch(task, run, cwd, argv, prompt, resume_id, may_start)
        finally:
            self._launching.discard(run.id)

    def _with_results(self, task: Task) -> str:
        """The task's prompt with the final message of each task it comes after
        (`--after`), a long one through a 0600 file of the queue's private directory
        that the prompt names (`graph.prompt_with_results`)."""
        # A continuation's conversation is the task it continues: its final message is
        # there already.
        results = [r for r in self.store.dep_results(task.id) if r[0] != task.continues_id]
        if not results:
            return task.prompt

        def write_file(dep_id: int, text: str) -> str:
            ensure_private_dir(self.dir)
            folder = ensure_private_dir(self.dir / "results")
            path = folder / f"task-{dep_id}.md"
            # Created 0600 before a byte is written (a result may hold anything), and
            # never through a symlink someone left in its place.
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            fd = os.open(path, flags, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT
            return str(path)

        try:
            return prompt_with_results(task.prompt, results, write_file)
        except (OSError, UnsafePath) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise LaunchFailed(f"cannot write its dependencies' results: {why}") from None

    async def _launch(
        self,
        task: Task,
        run: Run,
        cwd: Path,
        argv: list[str],
        prompt: str,
        resume_id: str | None,
        may_start: bool,
    ) -> Run:
        """Write the run's prompt and spec and start its window (`start`'s second half)."""
        stream = self.dir / f"run-{run.id}.jsonl"
        # The prompt goes on the agent's stdin (`claude -p` reads it there when argv has
        # none): any size, byte for byte, and never on a command line. Kept beside the
        # run's stream, in the private queue dir.
        prompt_file = self.dir / f"run-{run.id}.prompt"
        try:
            prompt_file.write_text(prompt, encoding="utf-8")
        except OSError as exc:
            self.store.update_run(run, state="failed", ended_at=datetime.now(UTC), result=str(exc))
            raise LaunchFailed(
                f"cannot write its prompt file {prompt_file}: {exc.strerror}"
            ) from None
        # The engine's environment is its first caller's, whole: an agent gets its share.
        env = agent_env(os.environ, self.agents.pass_env)
        env.pop("PODIUM_SESSION_ID", None)
        env.update(
            PODIUM_DATA_DIR=str(self.paths.data),
            PODIUM_QUEUE_TASK=str(task.id),
            PODIUM_QUEUE_RUN=str(run.id),
            PWD=str(cwd),
        )
        spec = self._spec(run)
        launcher = write_spec(
            spec,
            {
                "argv": argv,
                "env": env,
                "cwd": str(cwd),
                "stdout": str(stream),
                "stdin": str(prompt_file),
                "mirror": True,
            },
        )
        name = f"q{task.id}"
        try:
            spawned = await self.blocking(
                lambda: self.tmux.spawn(
                    self.tmux_settings.session_name,
                    name,
                    launcher,
                    str(cwd),
                    start_server=may_start,
                )
            )
        except TmuxError as exc:
            spec.unlink(missing_ok=True)
            prompt_file.unlink(missing_ok=True)
            self.store.update_run(run, state="failed", ended_at=datetime.now(UTC), result=str(exc))
            if isinstance(exc, TmuxServerGone) and not may_start:
                raise LaunchWaits(_NO_SERVER) from None  # it went between the look and now
            raise LaunchFailed(f"tmux: {exc}") from None
        self.store.update_run(
            run,
            window_id=spawned.window_id,
            pane_id=spawned.pane_id,
            pid=spawned.pid,
            stream_path=str(stream),
        )
        self.store.update(task, state="running", attempts=run.attempt, defer_until=None)
        self._started[run.id] = time.monotonic()
        self._cursors[run.id] = Cursor(str(stream))
        log.info(
            "task %d: run %d started in %s (%s)",
            task.id,
            run.id,
            spawned.pane_id,
            f"resuming {resume_id}" if resume_id else "new",
        )
        self._wake.set()
        return run

    # -- crash safety ---------------------------------------------------------------------------
    async def recover(self) -> None:
        """After an engine start (and its first sweep): adopt live runs, settle the ones
        whose pane is gone. Without a sweep yet (tmux failed), the follower does it later."""
        runs = self.store.running_runs()
        live = {run.task_id for run in runs}
        for task in self.store.in_state("running"):
            if task.id not in live:
                # A task left running with no run (its run settled while it started, as
                # an engine before this one could do): it is queued to run again.
                log.warning("task %d: running without a run; queued again", task.id)
                self.store.update(task, state="queued", last_result="queued again: no run was live")
        if not runs:
            return
        for run in runs:
            self._cursors[run.id] = _stored_cursor(run)
            seen, pane = self._pane_of(run)
            if seen and pane is not None and not pane.dead:
                log.info("run %d: pane %s still there, adopted", run.id, run.pane_id)
                continue
            await self._check(run, pane, seen)  # reads what it wrote meanwhile, then settles
        self._wake.set()

    def after_sweep(self, panes: list[PaneInfo], taken: float) -> None:
        """The engine's sweep: every pane of the server, from a `list-panes` begun at
        monotonic `taken`. Live runs are looked at again at once."""
        self._panes = {p.pane_id: p for p in panes}
        self._panes_taken = taken
        if self._cursors:
            self._wake.set()

    def _pane_of(self, run: Run) -> tuple[bool, PaneInfo | None]:
        """(whether a sweep since the run started has looked, the run's pane if it saw it:
        same id and pid)."""
        taken = self._panes_taken
        if run.id in self._launching:
            return False, None
        if taken is None or taken <= self._started.get(run.id, float("-inf")):
            return False, None
        pane = self._panes.get(run.pane_id or "")
        return True, pane if pane is not None and pane.pid == run.pid else None

    # -- following ----------------------------------------------------------------------------
    async def run(self) -> None:
        """Read every live run's stream until cancelled."""
        while True:
            runs = self.store.running_runs()
            if not runs:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                for run in runs:
                    seen, pane = self._pane_of(run)
                    await self._check(run, pane, seen)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("following runs failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL)

    async def _check(self, run: Run, pane: PaneInfo | None, seen: bool = True) -> None:
        """Read new lines of one run; settle it when it reported its result or ended.
        `seen`: whether the last sweep looked since the run started (`pane` is None then
        only when the sweep did not find it)."""
        result = self._read(run)
        if result is not None:
            await self._finish(run, result)
            return
        alive = pane is not None and pane.pid == run.pid and not pane.dead
        if alive or not seen:
            if why := self._over_limits(run):
                await self._stop(run, why)
            return
        # The pane ended or vanished: one last read (the agent may have written just now).
        result = self._read(run)
        failure = read_failure(self._spec(run))
        if result is not None:
            await self._finish(run, result)
        elif failure is not None:
            # The launcher could not start the agent: its reason is the outcome.
            code, reason = failure
            status = code if code is not None else pane.dead_status if pane else None
            await self._finish(run, None, exit_code=status, reason=reason)
        elif pane is not None and pane.dead:
            status = pane.dead_status
            await self._finish(run, None, exit_code=status)
        else:
            await self._interrupted(run)

    def _read(self, run: Run) -> dict[str, Any] | None:
        try:
            return self._read_new(run)
        except BaseException:
            # A write failed (a full disk): the cursor in memory is past lines whose
            # samples and offset were not stored. The next read starts again from
            # the stored offset (`run` is read from the table each round).
            self._cursors.pop(run.id, None)
            raise

    def _read_new(self, run: Run) -> dict[str, Any] | None:
        cursor = self._cursors.get(run.id)
        if cursor is None:
            cursor = self._cursors[run.id] = _stored_cursor(run)
        if not cursor.path:
            return None
        result = None
        samples = []
        retry_changed = False  # a retry line came, or a line that ends the loop
        for raw in _lines(cursor):
            # Written by an agent working in someone else's repo: anything, any depth.
            obj, _why = safe_json.loads(raw)
            if not isinstance(obj, dict):
                continue
            samples += samples_from_stream_json_line(obj)
            self._follow_spend(run, obj)
            kind = obj.get("type")
            # Not a UUID: not a session id (the stream is the agent's to write).
            sid = claude_session_id(obj.get("session_id"))
            if sid and sid != run.claude_session_id:
                self.store.update_run(run, claude_session_id=sid)
            retry = retrying.api_retry(obj, datetime.now(UTC))
            if retry is not None:
                _, since = self._retries.get(run.id, (retry, retry.seen_at))
                self._retries[run.id] = (retry, since)
                retry_changed = True
                if retry.rate_limited:
                    # A limit: stop here and defer, rather than hold a slot through the loop.
                    result = retrying.stopped_result(retry)
                    break
            elif kind != "rate_limit_event" and self._retries.pop(run.id, None):
                retry_changed = True
            if kind == "rate_limit_event":
                info = obj.get("rate_limit_info") or {}
                reset = info.get("resetsAt")
                if info.get("status") == "rejected" and isinstance(reset, (int, float)):
                    self._rejected_until[run.id] = datetime.fromtimestamp(reset, UTC)
            elif kind == "result":
                result = obj
                break
        if samples:
            self.record_usage(samples)  # the usage log's `headless` source
        if cursor.offset != run.stream_offset:
            self.store.update_run(run, stream_offset=cursor.offset)
        if result is None and retry_changed:
            for callback in self.on_retry:
                callback(run)
        return result

    def retry_info(self, run_id: int) -> wire.RetryInfo | None:
        """The live run's retry loop, if it is in one (`RunRecord.retrying`)."""
        retry = self._retries.get(run_id)
        return retry[0].to_wire(retry[1]) if retry else None

    async def _finish(
        self,
        run: Run,
        result: dict[str, Any] | None,
        exit_code: int | None = None,
        reason: str | None = None,
    ) -> None:
        if not self._settle(run):
            return
        task = self.store.get(run.task_id)
        now = datetime.now(UTC)
        fields: dict[str, Any] = {"ended_at": now}
        if exit_code is not None:
            fields["exit_code"] = exit_code
        if result is None:
            fields.update(
                state="failed", result=reason or f"ended without a result (exit {exit_code})"
            )
            self.store.update_run(run, **fields)
            if task is not None and task.state == "running":
                self.store.update(
                    task,
                    state="failed",
                    last_result=fields["result"],
                    claude_session_id=run.claude_session_id,
                )
            await self._close_window(run)
            self._done(run)
            return
        usage = result.get("usage") if isinstance(result.get("usage"), dict) else {}
        text = result.get("result") if isinstance(result.get("result"), str) else ""
        fields.update(
            subtype=_str(result.get("subtype")),
            is_error=bool(result.get("is_error")),
            api_error_status=_int(result.get("api_error_status")),
            terminal_reason=_str(result.get("terminal_reason")),
            num_turns=_int(result.get("num_turns")),
            total_cost_usd=_float(result.get("total_cost_usd")),
            input_tokens=_int(usage.get("input_tokens")),
            output_tokens=_int(usage.get("output_tokens")),
            cache_creation_tokens=_int(usage.get("cache_creation_input_tokens")),
            cache_read_tokens=_int(usage.get("cache_read_input_tokens")),
            duration_ms=_int(result.get("duration_ms")),
            result=text,
            claude_session_id=claude_session_id(result.get("session_id")) or run.claude_session_id,
        )
        limited = fields["is_error"] and (
            fields["api_error_status"] == 429 or run.id in self._rejected_until
        )
        if limited:
            rejected = self._rejected_until.pop(run.id, None)
            resets = retrying.limit_reset(now, rejected, text, self.full_until(now))
            fields.update(state="limited", resets_at=resets)
        else:
            fields["state"] = "failed" if fields["is_error"] else "done"
        self.store.update_run(run, **fields)
        if task is not None and task.state == "running":
            # A limit: deferred to the reset, then resumed (never retried in a loop);
            # a transient failure: deferred by a backoff; both up to [fill] max_attempts.
            after = self._after(task, run, now, _first_line(text))
            self.store.update(task, claude_session_id=fields["claude_session_id"], **after)
        log.info("task %d: run %d %s", run.task_id, run.id, fields["state"])
        await self._close_window(run)
        self._done(run)

    async def _interrupted(self, run: Run) -> None:
        """The pane vanished without a result (killed, tmux gone): queue the task again."""
        if not self._settle(run):
            return
        self.store.update_run(
            run,
            state="interrupted",
            ended_at=datetime.now(UTC),
            result="its pane vanished before a result",
        )
        task = self.store.get(run.task_id)
        if task is not None and task.state == "running":
            after = self._after(task, run, datetime.now(UTC), "interrupted")
            self.store.update(
                task, claude_session_id=run.claude_session_id or task.claude_session_id, **after
            )
        log.info("task %d: run %d interrupted", run.task_id, run.id)
        self._done(run)

    def _after(self, task: Task, run: Run, now: datetime, line: str) -> dict[str, Any]:
        """The task's state, defer_until and last_result now that `run` ended."""
        return retrying.after_run(
            run,
            self.store.runs(task.id),
            attempts=max(task.attempts, run.attempt),
            max_attempts=self.fill.max_attempts,
            base_backoff=self.fill.retry_backoff,
            now=now,
            result_line=line,
        )

    def _spec(self, run: Run) -> Path:
        """The run's launch spec; `sessions.launch` leaves a failed start beside it."""
        return self.paths.runtime / f"launch-run{run.id}.json"

    def _settle(self, run: Run) -> bool:
        if run.id in self._settled:
            return False
        self._settled.add(run.id)
        return True

    def _done(self, run: Run) -> None:
        self._cursors.pop(run.id, None)
        self._started.pop(run.id, None)
        self._rejected_until.pop(run.id, None)
        self._spend.pop(run.id, None)
        self._limits.pop(run.id, None)
        self._retries.pop(run.id, None)
        for callback in self.on_change:
            callback(run)

    async def _close_window(self, run: Run) -> None:
        """The outcome is stored and shown by `queue show`: the dead pane can go."""
        if run.pane_id:
            with contextlib.suppress(TmuxError):
                await self.blocking(self.tmux.kill_pane, run.pane_id)

    async def cancel(self, run: Run) -> None:
        """Stop a live run (its task was cancelled or paused)."""
        if not self._settle(run):
            return
        self._read(run)
        self.store.update_run(run, state="cancelled", ended_at=datetime.now(UTC))
        await self._close_window(run)
        self._done(run)

    async def can_resume(self, session_id: str | None) -> bool:
        """Whether a stopped run's Claude session left a conversation `--resume` can take
        up: Claude Code saves none before its first prompt, so a run stopped that early
        starts afresh. Looked for where the runs' Claude Code keeps it (the config dir of
        the environment `_launch` gives them)."""
        if not session_id:
            return False
        config_dir = claude_config_dir(agent_env(os.environ, self.agents.pass_env))
        return bool(await self.blocking(has_transcript, session_id, config_dir))

    def wake(self) -> None:
        self._wake.set()

    def _mcp_config(self) -> Path | None:
        """podium's MCP config file for a run, written now; None with `[agents] mcp = false`."""
        if not self.agents.mcp:
            return None
        return write_mcp_config(self.paths.agent_settings, mcp_env(self.paths))

    # -- spend, budget and timeout ----------------------------------------------------------------
    def spend(self, run_id: int) -> RunSpend | None:
        """What a live run has spent so far, from its stream (None: nothing yet, or not a
        live run). The fill policy's view of running tasks reads it."""
        follower = self._spend.get(run_id)
        return follower.spend() if follower is not None else None

    def _follow_spend(self, run: Run, obj: dict[str, Any]) -> None:
        """Count one stream line into the run's spend. A run adopted after an engine
        restart first reads again what the last engine had read, so its spend is whole."""
        self._follower(run).feed(obj, datetime.now(UTC))

    def _follower(self, run: Run) -> SpendFollower:
        follower = self._spend.get(run.id)
        if follower is None:
            follower = self._spend[run.id] = SpendFollower()
            _catch_up(follower, run)
        return follower

    def _over_limits(self, run: Run, now: datetime | None = None) -> str | None:
        """Why a live run must stop now: past its task's timeout or budget; else None."""
        now = now or datetime.now(UTC)
        limits = self._limits.get(run.id)
        if limits is None:
            limits = self._limits[run.id] = self._limits_of(run)
        if limits.timeout_s is not None and now - run.started_at >= timedelta(
            seconds=limits.timeout_s
        ):
            return f"timed out after {_duration_text(limits.timeout_s)}"
        budget = limits.budget
        if budget is None or budget.kind == "usd":
            return None  # dollars: Claude Code's own --max-budget-usd stops the run
        if budget.kind == "pct" and self.capacity is None:
            return None
        spend = self._follower(run).spend()
        if spend is None and not limits.earlier:
            return None
        units = budget.units(self.capacity or (lambda _window: 0.0))
        if units is None or units <= 0:
            return None
        spent = limits.earlier + (spend.weighted_tokens if spend is not None else 0.0)
        if spent + limits.given < units:
            return None
        earlier = f" (with {limits.earlier:,.0f} of its earlier runs)" if limits.earlier else ""
        given = f", {limits.given:,.0f} more given to its subtasks" if limits.given else ""
        return (
            f"stopped at its budget {budget}: {spent:,.0f} of {units:,.0f} weighted tokens"
            f"{earlier}{given}"
        )

    def forget_limits(self, task_id: int) -> None:
        """A subtask of `task_id` was queued: its live run's limits are read again."""
        for run_id in [r for r, lim in self._limits.items() if lim.task_id == task_id]:
            del self._limits[run_id]

    def _limits_of(self, run: Run) -> _Limits:
        """The run's task's budget and timeout, and what its earlier runs spent (the
        budget is the task's: a run resumed after a limit goes on spending it)."""
        task = self.store.get(run.task_id)
        if task is None:
            return _Limits(None, None, 0.0, 0.0, run.task_id)
        budget = None
        if task.budget:
            try:
                budget = parse_amount(task.budget)
            except ValueError as exc:  # checked when added: only a hand-edited row
                log.warning("task %d: its budget is ignored: %s", task.id, exc)
        earlier = sum(
            r.weighted_tokens()
            for r in self.store.runs(task.id)
            if r.id != run.id and r.attempt < run.attempt
        )
        given = 0.0
        if budget is not None and budget.kind != "usd":
            given = committed_units(
                [self._child(c) for c in self.store.children(task.id)],
                self.capacity or (lambda _window: 0.0),
            )
        return _Limits(budget, task.timeout_s, earlier, given, task.id)

    def _child(self, task: Task) -> Child:
        """A subtask as the budget caps see it (its runs' spend from their results)."""
        spent = sum(r.weighted_tokens() for r in self.store.runs(task.id))
        return Child(task.budget, task.state in FINAL_TASK_STATES, Spent(spent, 0.0))

    async def _stop(self, run: Run, reason: str) -> None:
        """Stop a live run at its budget or timeout (the cancel path: its pane is killed);
        the run and its task end `failed` with `reason`, never retried by podium."""
        if not self._settle(run):
            return
        self._read(run)
        now = datetime.now(UTC)
        spend = self.spend(run.id)
        kind = "timeout" if reason.startswith("timed out") else "budget"
        self.store.update_run(
            run,
            state="failed",
            ended_at=now,
            result=reason,
            # What stopped it, for whoever decides on retries: podium, not the agent.
            terminal_reason=kind,
            is_error=True,
            total_cost_usd=spend.cost_usd if spend is not None else None,
            duration_ms=int((now - run.started_at).total_seconds() * 1000),
        )
        task = self.store.get(run.task_id)
        if task is not None and task.state == "running":
            self.store.update(
                task,
                state="failed",
                last_result=reason,
                claude_session_id=run.claude_session_id or task.claude_session_id,
            )
        log.info("task %d: run %d %s", run.task_id, run.id, reason)
        await self._close_window(run)
        self._done(run)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _stored_cursor(run: Run) -> Cursor:
    """The stream cursor `queue_runs` holds for `run` (with the file's inode, so that
    reading goes on from the stored offset instead of from the start)."""
    cursor = Cursor(run.stream_path or "", offset=run.stream_offset)
    with contextlib.suppress(OSError):
        cursor.inode = os.stat(cursor.path).st_ino
    return cursor


@dataclass(frozen=True)
class _Limits:
    """A run's task's budget and timeout, and the weighted tokens its earlier runs spent."""

    budget: Amount | None
    timeout_s: int | None
    earlier: float
    # What its subtasks hold of the budget (weighted tokens): an open one's budget, an
    # ended one's spend. The task's own spend and this never pass the budget together.
    given: float = 0.0
    task_id: int | None = None


def _duration_text(seconds: int) -> str:
    """'45m', '90s', '2h', '1h30m': as the person wrote it (`parse_duration` reads it)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


def _catch_up(follower: SpendFollower, run: Run) -> None:
    """Feed `follower` the lines of the run's stream before its stored offset: what an
    earlier engine read before this one adopted the run (nothing for a new run)."""
    if not run.stream_path or run.stream_offset <= 0:
        return
    cursor = Cursor(run.stream_path)
    now = datetime.now(UTC)
    for raw in _lines(cursor):
        obj, _why = safe_json.loads(raw)
        if isinstance(obj, dict):
            follower.feed(obj, now)
        if cursor.offset >= run.stream_offset:
            break
