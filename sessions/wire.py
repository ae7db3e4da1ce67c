"""The engine's API, typed: every method's params and result, and every event.

This module is the one contract between the engine and its clients (the CLI and
the control tower). The engine decodes a request's params into the method's
params Struct (`msgspec.convert`, so a wrong type is a `bad_request` naming the
field) and encodes what its handler returns; a client decodes the reply into the
method's result type (`EngineClient.request`). Both sides import this module, so
a renamed method or field is one change here, and the type checker (and
`tests/unit/test_wire.py`) finds every place it touches.

Only msgspec and the standard library: the tower imports it at start-up.
Times are ISO 8601 strings in UTC, as they always were on the wire; fields a
result carries only sometimes are `UNSET` (left out of the JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from msgspec import UNSET, Struct, UnsetType

P = TypeVar("P", bound=Struct)
R = TypeVar("R")
W = TypeVar("W", bound=Struct)

__all__ = ["EVENTS", "METHODS", "UNSET", "Event", "Method"]


class _Wire(Struct, kw_only=True):
    """Base of every wire Struct: keyword fields, unknown fields ignored (an older
    client's extra params, a newer engine's extra result fields)."""


# ====================================================================================
# Shared values
# ====================================================================================
class AttentionItem(_Wire):
    """An attention item: the session waits for the person (`kind`)."""

    id: int
    kind: str
    opened_at: str
    waited_s: float
    detail: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None


class Doing(_Wire):
    """What a session is doing, for its row: `tool`, a tool that runs (`Bash: npm
    test`); `said`, the last line of the agent's last message; `prompt`, the first
    line of the prompt of the turn under way (before its first tool). `text` is one
    line of printable characters, at most `DOING_MAX` of them: hook payloads are
    untrusted, the engine cleans them (`sessions.engine.doing`)."""

    kind: Literal["tool", "said", "prompt"]
    text: str


# The longest `Doing.text`: more than any row has room for.
DOING_MAX = 160


class Session(_Wire):
    """A session as the API shows it: the record, its open attention item, whether it
    is on stage (None while there is no stage), its usage today (local day, from
    the usage log; None for a session with no Claude session id), and what it is
    doing (from its hooks; None when they said nothing yet)."""

    id: str
    name: str
    agent: str
    argv: list[str]
    cwd: str
    tmux_socket: str
    # Alt-N focuses session N; kept for the session's life (a kill frees it).
    number: int | None = None
    tmux_session_id: str | None = None
    window_id: str | None = None
    pane_id: str | None = None
    pid: int | None = None
    claude_session_id: str | None = None
    transcript_path: str | None = None
    settings_path: str | None = None
    state: str = "starting"
    state_since: str | None = None
    state_source: str = "engine"
    exit_code: int | None = None
    created_at: str | None = None
    ended_at: str | None = None
    limit_resets_at: str | None = None
    worktree_path: str | None = None
    worktree_branch: str | None = None
    worktree_repo: str | None = None
    worktree_branch_created: bool | None = None
    # The commit its checkout was at when it started (a git repository only): what
    # the tower's diff view compares with.
    start_commit: str | None = None
    attention: AttentionItem | None = None
    on_stage: bool | None = None
    tokens_today: int | None = None
    cost_today_usd: float | None = None
    doing: Doing | None = None
    messages_waiting: int = 0
    """Messages posted to it and not typed in yet (they go in once its turn ends)."""


class FocusedSession(Session, kw_only=True):
    """`sessions.focus` / `stage.show`: the session, the item the focus closed, and
    whether the session is now in view on the stage."""

    acknowledged: AttentionItem | None = None
    shown: bool = False


class UsageWindow(_Wire):
    """One usage window now: used %, reset, where the figure comes from, burn rate and
    the projection at reset."""

    window: str
    used_pct: float
    resets_at: str | None = None
    source: str = "estimate"
    captured_at: str | None = None
    age_s: float | None = None
    estimate: bool = False
    burn_pct_per_hour: float | None = None
    projected_pct_at_reset: float | None = None
    limit_at: str | None = None
    detail: str | None = None


class LimitSample(_Wire):
    window: str
    used_pct: float
    resets_at: str | None = None
    source: str = ""
    ts: str | None = None
    detail: str | None = None


class FillState(_Wire):
    enabled: bool
    reserve_pct: float | None = None
    until: str | None = None
    # Who switched it on: "you" (`podium fill`, the tower), "config" (`[fill] enabled`)
    # or "nightly" (the night schedule); and when.
    source: str | None = None
    since: str | None = None
    # Fill switches itself on at each night's start and off at its end: from
    # `podium fill --nightly` ("fill") or `[fill] schedule = "night"` ("config").
    nightly: bool = False
    nightly_from: str | None = None
    # The night window, "01:00-07:00" in the [fill] zone.
    night: str = ""


class TaskRecord(_Wire):
    """A background task as stored (`queue` events, `queue.show`'s occurrences)."""

    id: int
    prompt: str
    cwd: str
    agent: str = "claude"
    worktree: bool = False
    worktree_path: str | None = None
    priority: int = 0
    model: str | None = None
    model_fallback: str | None = None
    max_turns: int | None = None
    budget_usd: float | None = None
    est_pct: float | None = None
    allowed_tools: list[str] = []
    permission_mode: str | None = None
    schedule_kind: str = "now"
    schedule: str | None = None
    not_before: str | None = None
    defer_until: str | None = None
    state: str = "queued"
    parent_id: int | None = None
    claude_session_id: str | None = None
    attempts: int = 0
    last_result: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    estimate: str | None = None
    """An amount spec (`sessions.fill.amount`): "5%5h", "30%week", "200k"."""
    budget: str | None = None
    """An amount spec where its run is stopped; dollars ("$1.5") go to --max-budget-usd."""
    timeout_s: int | None = None
    """Wall-clock seconds a run may take before podium stops it."""
    team_id: int | None = None
    """The team it is a node of (`podium team`); subtasks inherit it."""
    not_after: str | None = None
    """It does not start after this time (its team's deadline)."""
    continues_id: int | None = None
    """The task whose Claude session its first run resumes (a lead's continuation)."""
    schedule_text: str = ""
    paused_by: str | None = None
    """Who paused it (state `paused`): "you", or "task N" whose subtree was paused."""
    paused_at: str | None = None


class RetryInfo(_Wire):
    """A live run in Claude Code's own retry loop: the last `system`/`api_retry` line of
    its stream (`sessions.fill.retrying`). Kept in the engine's memory only: a restarted
    engine learns it again at the run's next retry."""

    attempt: int
    max_retries: int
    status: int | None = None
    error: str | None = None
    # When Claude Code tries again (the line's arrival + its retry_delay_ms).
    next_at: str | None = None
    # When this loop's first retry was seen.
    since: str | None = None


class RunRecord(_Wire):
    """One run of a background task."""

    id: int
    task_id: int
    attempt: int
    state: str
    started_at: str | None = None
    ended_at: str | None = None
    argv: list[str] = []
    cwd: str | None = None
    resumed_from: str | None = None
    window_id: str | None = None
    pane_id: str | None = None
    pid: int | None = None
    stream_path: str | None = None
    stream_offset: int = 0
    claude_session_id: str | None = None
    exit_code: int | None = None
    subtype: str | None = None
    is_error: bool | None = None
    api_error_status: int | None = None
    terminal_reason: str | None = None
    num_turns: int | None = None
    total_cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cache_read_tokens: int | None = None
    duration_ms: int | None = None
    resets_at: str | None = None
    result: str | None = None
    # Set while the run is live and Claude Code retries a failed API request.
    retrying: RetryInfo | None = None
    # How the attempt ended, in a few words (`Run.reason`): what `queue show` lists.
    reason: str = ""
    model: str | None = None  # what it ran on; None: the agent's default


class TaskDep(_Wire):
    """A task on the other end of an `--after` edge, with its state now."""

    id: int
    state: str
    last_result: str | None = None


class Task(TaskRecord, kw_only=True):
    """A task as `queue.*` answers: with its runs counted, the last one, and its cost."""

    runs: int = 0
    last_run: RunRecord | None = None
    cost_usd: float = 0.0
    after: list[TaskDep] = []
    """The tasks it comes after (`--after`): it runs once they are all done."""
    before: list[TaskDep] = []
    """The tasks that come after it (its dependents)."""
    waits: str | None = None
    """Why it cannot run yet for its dependencies ("after task 3, which failed: …");
    None when it has none open."""
    kind: Literal["task", "subtask", "copy"] = "task"
    """What its `parent_id` makes it: none ("task"), a task's subtask, or a copy of the
    recurring template it names (`sessions.fill.tree`)."""


class Decision(_Wire):
    action: str
    task_id: int | None = None
    reason: str = ""
    until: str | None = None
    kind: str = ""
    """What it comes from (`sessions.fill.policy`): limit, busy, idle, cap, reserve,
    pacing, night_budget, spare."""
    model: str | None = None
    """A launch on the task's fallback model (`--model-fallback`), not its own."""


class StageLayout(_Wire):
    """The stage: its window, the tower's pane, who is on stage (left to right) and
    who is parked (attention order)."""

    window_id: str | None = None
    tower_pane: str | None = None
    tower_alive: bool = False
    staged: list[str] = []
    parked: list[str] = []
    capacity: int = 0
    stage_size: int = 0
    width: int = 0
    height: int = 0


# ====================================================================================
# Params (what a client sends) and results (what the engine answers), per method
# ====================================================================================
class NoParams(_Wire):
    pass


class SessionRef(_Wire):
    """A session by name, or by the pane it runs in (`podium key show %PANE`)."""

    name: str | None = None
    pane: str | None = None


# -- engine ---------------------------------------------------------------------------
class Ping(_Wire):
    pid: int
    version: str


class SpoolStatus(_Wire):
    lines: int
    bad_lines: int
    skipped_files: int
    problems: list[str]


class WatchStats(_Wire):
    """The sweep's work: how often it ran and what it read."""

    sweeps: int
    capture_calls: int
    screens_captured: int
    process_samples: int
    last_sweep_captures: int
    sweep_interval: float


class Status(_Wire):
    pid: int
    version: str
    data_dir: str
    socket: str
    db: str
    started_at: float
    uptime_s: float
    tmux_socket: str
    tmux_alive: bool
    sessions: int
    hooks: dict[str, int]
    spool: SpoolStatus
    watch: WatchStats
    # The server's pid, and the last server that exited under this engine.
    tmux_pid: int | None = None
    tmux_exit: TmuxExit | None = None
    # How many usage ticks and fill rounds have run: what a test waits on, not a clock.
    usage_ticks: int = 0
    fill_rounds: int = 0


class Stopping(_Wire):
    stopping: bool
    pid: int


# -- sessions -------------------------------------------------------------------------
class NewParams(_Wire):
    name: str | None = None
    agent: str | None = None
    cwd: str | None = None
    cmd: str | None = None
    prompt: str | None = None
    worktree: bool = False
    branch: str | None = None
    env: dict[str, str] | None = None
    hooks: bool | None = None


class ResumeParams(_Wire):
    name: str
    prompt: str | None = None
    env: dict[str, str] | None = None


class SendParams(SessionRef, kw_only=True):
    text: str
    enter: bool = True


class Sent(_Wire):
    sent: int
    name: str


class KillParams(SessionRef, kw_only=True):
    cleanup: bool = False


class KilledWorktree(_Wire):
    path: str
    branch: str
    repo: str
    removed: bool | UnsetType = UNSET
    branch_deleted: bool | UnsetType = UNSET


class Killed(_Wire):
    killed: str
    id: str
    worktree: KilledWorktree | None = None
    cleanup: list[str] | UnsetType = UNSET


class RenameParams(SessionRef, kw_only=True):
    new_name: str


class Next(_Wire):
    session: FocusedSession | None = None


class SinceParams(_Wire):
    since: str | None = None


class AttentionDay(_Wire):
    day: str
    items: int
    waited_s: float | None = None
    responses: int = 0
    response_p50_s: float | None = None
    response_p90_s: float | None = None
    permission_prompts: int = 0
    limits: int = 0
    # Alerts the person received that day, by kind, and those not given because
    # they were looking at the pane.
    alert_bells: int = 0
    alert_messages: int = 0
    alert_desktop: int = 0
    alerts_spared: int = 0


class AttentionReport(_Wire):
    since: str | None
    days: list[AttentionDay]


# -- usage ----------------------------------------------------------------------------
class UsageWindows(_Wire):
    now: str
    windows: list[UsageWindow]


class RecordParams(_Wire):
    lines: list[Any]


class Recorded(_Wire):
    samples: int


class IngestParams(_Wire):
    claude_dirs: list[str] | str | None = None
    claude_dir: str | None = None


class LogTotals(_Wire):
    input: int
    output: int
    cache_creation: int
    cache_read: int


class Ingested(_Wire):
    """A transcript pass: what it read, and the whole log's totals after it."""

    files: int
    lines: int
    bad_lines: int
    bytes_read: int
    records: int
    torn_lines: int
    skipped_files: int
    problems: list[str]
    seconds: float
    workers: int
    messages: int
    totals: LogTotals
    cost_usd: float


class UsageTotals(_Wire):
    messages: int
    totals: LogTotals
    cost_usd: float
    claude_dirs: list[str]
    last_pass: Ingested | None = None


class UsageReportParams(_Wire):
    by: str | None = None
    since: str | None = None
    until: str | None = None
    days: int | None = None
    tz: str | None = None


class UsageRow(_Wire):
    """One group of `reports.usage`: its keys (those of `by`) and its sums."""

    day: str | UnsetType = UNSET
    week: str | UnsetType = UNSET
    month: str | UnsetType = UNSET
    model: str | UnsetType = UNSET
    project: str | UnsetType = UNSET
    session: str | UnsetType = UNSET
    first_ts: str | UnsetType | None = UNSET
    last_ts: str | UnsetType | None = UNSET
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    tokens: int = 0
    cost_usd: float | None = None
    messages: int = 0
    unpriced: int = 0


class UsageReport(_Wire):
    by: str
    tz: str
    since: str | None
    until: str | None
    rows: list[UsageRow]
    total: UsageRow


class WasteParams(_Wire):
    window: str | None = None
    since: str | None = None
    tz: str | None = None


class WasteWindow(_Wire):
    """One instance of a window: what it left unused at its reset."""

    window: str
    resets_at: str | None = None
    unused_at_reset_pct: float | None = None
    last_used_pct: float = 0.0
    last_sample: str | None = None
    area_pct_hours: float = 0.0
    window_equivalents: float = 0.0
    covered_minutes: int = 0
    expected_minutes: int = 0
    coverage: float | None = None


class WasteTotal(_Wire):
    windows_ended: int = 0
    unused_at_reset_pct: float = 0.0
    area_pct_hours: float = 0.0
    window_equivalents: float = 0.0
    covered_minutes: int = 0
    idle_minutes: int = 0
    expected_minutes: int = 0
    coverage: float | None = None
    unused_at_reset_windows: float = 0.0
    unused_at_reset_mean_pct: float | None = None


class WasteReport(_Wire):
    window: str | None
    since: str | None
    now: str
    windows: list[WasteWindow]
    open: list[WasteWindow]
    total: dict[str, WasteTotal]


class SeriesParams(_Wire):
    hours: int | None = None
    step: int | None = None
    window: str | None = None
    # Slices of the span, one point each per window (its highest %): a plot's columns.
    buckets: int | None = None


class SeriesPoint(_Wire):
    minute: str
    window: str
    used_pct: float
    source: str | None = None


class Series(_Wire):
    hours: float
    window: str | None
    step: int
    points: list[SeriesPoint]
    buckets: int | None = None


class ExportParams(_Wire):
    dir: str | None = None
    force: bool = False


class ExportedTable(_Wire):
    table: str
    path: str
    rows: int


class Exported(_Wire):
    dir: str
    tables: list[ExportedTable]


# -- the stage ------------------------------------------------------------------------
class StageUpParams(_Wire):
    tower: list[str]
    env: dict[str, str] | None = None
    cwd: str | None = None
    size: list[int] | None = None


class ZoomParams(_Wire):
    zoomed: bool = False
    pane: str | None = None


class Zoomed(_Wire):
    zoomed: bool


# -- the background queue -------------------------------------------------------------
class QueueListParams(_Wire):
    all: bool = True
    explain: bool = False
    """Also say why each open task waits, and the reserve in force (it asks the fill
    policy, as a scheduler round would)."""


class ReserveRule(_Wire):
    """One rule of the `[fill] reserve` schedule, as configured."""

    five_hour_pct: float
    days: str | None = None
    start: str | None = None
    end: str | None = None


class Reserve(_Wire):
    """The share of the 5-hour window that background fill keeps for you now."""

    pct: float
    """Kept until the window resets: the highest rule over what is left of it (fill
    spent now is gone when a higher reserve starts)."""
    now_pct: float
    """The rule for this moment."""
    window_end: str
    """When the 5-hour window resets (5 hours from now when none is open)."""
    source: Literal["fill", "config", "schedule"]
    """`podium fill --reserve`, `[fill] reserve_pct`, or the `[fill] reserve` schedule."""
    rules: list[ReserveRule] = []
    """The schedule's rules (source "schedule"); first match wins."""


class Held(_Wire):
    """Why an open task (queued, deferred, or a recurring template) is not running now."""

    task_id: int
    kind: str
    """fill_off, scheduled, night, deferred, cron, on_change, on_event, behind, after (its
    dependencies are not done), held (one failed, was cancelled or is paused), paused
    (a person paused it, `queue.pause`), or the policy's
    own (`Decision.kind`: limit, busy, cap, reserve, pacing, spare)."""
    reason: str
    until: str | None = None
    """When what it waits for comes, if known (a time, the night, a reset)."""


class QueueList(_Wire):
    tasks: list[Task]
    fill: FillState
    reserve: Reserve | None = None
    """With `explain`: the reserve in force."""
    held: list[Held] = []
    """With `explain`: one per open task that is not running."""


class TaskRef(_Wire):
    """A task by id: a number, or the text `podium queue show 3` / `#3` gives."""

    id: int | str


class CancelParams(TaskRef, kw_only=True):
    """`queue.cancel`: the task and every open task under it."""

    by_task: int | None = None
    """The background run asking (`podium mcp`'s `cancel_task`): it may cancel only
    tasks under it, never itself, its parent or another tree."""


class QueueShow(_Wire):
    task: Task
    runs: list[RunRecord]
    occurrences: list[TaskRecord]


# What the queue's INTEGER columns hold: a bigger number is refused with a one-line
# reason at the boundary, not by the database with a traceback.
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
PositiveInt32 = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class QueueAddParams(_Wire):
    prompt: str
    cwd: str | None = None
    worktree: bool = False
    priority: Int32 = 0
    model: str | None = None
    model_fallback: str | None = None
    max_turns: PositiveInt32 | None = None
    budget_usd: float | None = None
    est_pct: float | None = None
    allowed_tools: list[str] | str | None = None
    permission_mode: str | None = None
    at: str | None = None
    cron: str | None = None
    window: str | None = None
    on_change: str | None = None
    on_event: str | None = None
    """A podium event that queues the task each time (`sessions.fill.triggers`):
    "turn-end:NAME", "idle:NAME:MINUTES", "task-done:ID", "reset-unused:WINDOW:PCT",
    "commit:PATH"."""
    schedule: str | None = None
    budget: str | None = None
    """An amount spec (`sessions.fill.amount.parse_amount`): "30%5h", "200k", "$1.50"."""
    estimate: str | None = None
    """An amount spec of what the task should spend: "5%5h", "2%week", "50k"."""
    timeout_s: PositiveInt32 | None = None
    after: list[int] = []
    """Task ids it comes after: it runs once every one is done, and their results are
    handed to it in its prompt. An unknown task or a cycle is refused."""
    parent_id: int | None = None
    """The task that asks for this one (a background run's own, `podium mcp`'s
    `queue_task`): its budget, depth and fan-out cap the child
    (`sessions.fill.delegation`)."""
    continues: bool = False
    """With `parent_id`: the new task resumes the parent's Claude session (the lead's
    own continuation), after the parent and every task of `after`, whose results it
    is handed."""
    by_agent: bool = False
    """Queued by an agent (`podium mcp`): without a parent its budget is capped by
    `[fill] agent_task_budget` (and defaults to it)."""


class TreeParams(_Wire):
    """One task's tree (`id`: it and everything under it), or, without, every tree."""

    id: int | str | None = None
    all: bool = False
    """Also the trees whose every task ended, and every copy of a template."""


class TaskNode(_Wire):
    """A task in its tree (`sessions.fill.tree.Node`): its own spend and its subtree's
    (weighted tokens, dollars) against its budget."""

    id: int
    state: str
    prompt_head: str
    kind: Literal["task", "subtask", "copy"]
    """A root ("task": a person's, or a team's lead), an agent's subtask, or a copy of
    the recurring template above it."""
    depth: int = 0
    budget: str | None = None
    budget_tokens: float | None = None
    """The budget in weighted tokens; None for dollars or none."""
    spent_tokens: float = 0.0
    spent_usd: float = 0.0
    tree_tokens: float = 0.0
    tree_usd: float = 0.0
    share: float | None = None
    """The subtree's spend over the budget (1.0: all of it); None without one."""
    paused_by: str | None = None
    recurring: bool = False
    after: list[int] = []
    children: list[TaskNode] = []


class QueueTree(_Wire):
    trees: list[TaskNode]


class PauseParams(TaskRef, kw_only=True):
    subtree: bool = True
    """The task and every open task under it (false: the task alone)."""
    by: str = "you"
    """Who pauses it, as the tree shows it: "paused by you"."""


class TreeChange(_Wire):
    """What a pause, resume or cancel did: the task now, the tasks it changed (the task
    first, then those under it), the runs it stopped, and a word on each resumed run."""

    task: Task
    changed: list[int] = []
    stopped: list[int] = []
    """Tasks whose live run was stopped."""
    notes: list[str] = []
    """On resume: "task 3 goes on with its Claude session …" or starts afresh."""


class ReprioritiseParams(TaskRef, kw_only=True):
    priority: Int32


class FillParams(_Wire):
    """`{toggle: true}` switches fill; `{enabled, reserve_pct?, until?}` sets it; no
    params reads it."""

    toggle: bool = False
    enabled: bool | None = None
    reserve_pct: float | None = None
    until: str | None = None
    # `podium fill --nightly` (true) or `--no-nightly` (false); alone, the switch is left.
    nightly: bool | None = None


class DecideParams(_Wire):
    reserve_pct: float | None = None


class Decided(_Wire):
    now: str
    fill: FillState
    windows: list[UsageWindow]
    decisions: list[Decision]


class CapacityParams(_Wire):
    task_id: int | None = None
    """The calling background run's task: what it may still spend is answered too."""


class HumanForecast(_Wire):
    """The person's own use (background runs left out) and its forecast, from the log."""

    pct_per_hour_now: float
    """Recent burn of the person's sessions, % of the 5-hour window per hour."""
    next_hours_pct: float
    """Expected use over the next few hours, % of the 5-hour window."""
    active_sessions: int
    weeks: dict[str, list[float | None]] = {}
    """Weekly window -> [forecast use until its reset, use so far], % of that window."""


class TaskBudget(_Wire):
    """What a task may still spend: its budget less its runs' spend and its subtasks'."""

    task_id: int
    budget: str | None = None
    """The task's budget (an amount's text); None: no budget of its own."""
    spent_tokens: float = 0.0
    """Weighted tokens its runs spent, the live one's included."""
    spent_usd: float = 0.0
    left: str | None = None
    """What is left to spend or give to subtasks (an amount's text); None: unbounded
    by a budget (the person's reserve still holds)."""
    depth: int = 0
    """Tasks above it (0: a person's task)."""
    children: int = 0


class Capacity(_Wire):
    now: str
    windows: list[UsageWindow]
    reserve: Reserve
    human: HumanForecast
    fill: FillState
    task: TaskBudget | None = None


class TeamStartParams(_Wire):
    """`podium team GOAL --budget AMOUNT [--until HH:MM] [--cwd DIR] [--model M]
    [--allowed-tools RULES] [--permission-mode MODE]`."""

    goal: str
    budget: str
    """An amount spec (`sessions.fill.amount`): the whole team's, the lead's budget."""
    until: str | None = None
    """HH:MM (the next such time) or ISO 8601: no node of the team starts after it."""
    cwd: str | None = None
    model: str | None = None
    allowed_tools: list[str] = []
    """Tools the team's runs may use without asking (Claude Code's --allowedTools rules):
    the lead gets them besides its own, a subtask at most what its parent has."""
    permission_mode: str | None = None
    """claude --permission-mode for the lead and, unless they ask a stricter one, its
    subtasks."""


class Team(_Wire):
    """A team: its goal, budget and deadline, its lead task, what it spent, its state
    (queued, running, waiting, past deadline, done, failed, cancelled)."""

    id: int
    goal: str
    budget: str
    until: str | None = None
    cwd: str = ""
    model: str | None = None
    lead_id: int | None = None
    state: str = "queued"
    nodes: int = 0
    open_nodes: int = 0
    spent_tokens: float = 0.0
    """Weighted tokens its nodes' runs spent (a live run's so far)."""
    spent_usd: float = 0.0
    budget_tokens: float | None = None
    """The budget in weighted tokens (None for a budget in dollars)."""
    report_path: str | None = None
    """The report file once written (the lead's final message when the team ended)."""
    created_at: str | None = None


class TeamList(_Wire):
    teams: list[Team] = []


class RunRow(_Wire):
    """One run in `reports.runs`."""

    run_id: int
    task_id: int
    attempt: int
    prompt: str
    outcome: str
    started_at: str
    ended_at: str | None
    duration_s: float
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cost_usd: float | None = None
    num_turns: int | None = None
    is_error: bool | None = None
    api_error_status: int | None = None
    terminal_reason: str | None = None
    resets_at: str | None = None
    result: str | None = None


class RunsReport(_Wire):
    since: str | None
    runs: list[RunRow]


class ReviewParams(_Wire):
    """`reports.review`: findings since a day (YYYY-MM-DD, default 28 days back), days
    counted in `tz` (default: the engine's zone)."""

    since: str | None = None
    tz: str | None = None
    # `reports.review_agent`: what the person asks the agent to look at especially.
    focus: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ReviewAmount(_Wire):
    """How much a finding is about (None: not in this unit)."""

    tokens: int | None = None
    usd: float | None = None
    pct: float | None = None
    window: str | None = None
    minutes: float | None = None
    count: int | None = None


class ReviewWhere(_Wire):
    sessions: list[str] = []
    tasks: list[int] = []
    projects: list[str] = []
    hours: list[str] = []


class Finding(_Wire):
    """One finding of the review: `source` "computed" (podium) or "model" (an agent)."""

    kind: str
    area: str
    title: str
    detail: str
    amount: ReviewAmount
    where: ReviewWhere
    suggestion: str
    confidence: float
    sure: Literal["high", "medium", "low"]
    evidence: list[list[str]] = []
    source: str = "computed"
    weight: float = 0.0


class DailySplit(_Wire):
    """One local day's use at list price: the person's and podium's background runs'."""

    day: str
    person_usd: float = 0.0
    background_usd: float = 0.0
    person_tokens: int = 0
    background_tokens: int = 0


class ReviewReset(_Wire):
    window: str
    resets_at: str | None = None
    unused_pct: float | None = None


class Review(_Wire):
    since: str
    now: str
    findings: list[Finding]
    # Detectors that failed, one line each; the others still reported.
    problems: list[str] = []
    # Dollars at list price per percent of each window, from the log.
    usd_per_pct: dict[str, float] = {}
    daily: list[DailySplit] = []
    # Minutes agents waited for the person: 7 rows (Mon first) of 24 hours.
    attention_heatmap: list[list[float]] = []
    # Each window's highest figure per hour: [[ISO hour, used %], ...].
    series: dict[str, list[tuple[str, float]]] = {}
    # Every window instance that reset in the period, with the share it left unused.
    resets: list[ReviewReset] = []


class LatestReview(_Wire):
    """`reports.review_latest`: the last review the engine computed (made now when it
    has none from the last hours), and when it was computed."""

    review: Review
    computed_at: str


class ReviewQueued(_Wire):
    """`reports.review_agent`: the agent's review task, and the digest it will read."""

    task: Task
    digest: str
    # How many computed findings the digest holds.
    findings: int


class NightParams(_Wire):
    """`reports.night`: a period (ISO 8601 or YYYY-MM-DD); no `since`: the last night
    window that began, no `until`: its end, or now while it lasts."""

    since: str | None = None
    until: str | None = None


class NightTask(_Wire):
    """One task that ran in the period, as it stands now."""

    task_id: int
    prompt: str
    state: str
    runs: int
    tokens: int = 0
    cost_usd: float = 0.0
    # Why it failed (or the last attempt's result); a deferred one's reason.
    reason: str | None = None
    # A deferred task's time to run again.
    until: str | None = None


class NightWindow(_Wire):
    """A usage window over the period, by the per-minute series: capacity used."""

    window: str
    start_pct: float
    end_pct: float
    peak_pct: float


class NightReport(_Wire):
    """`podium report night`: what background fill did in a period (the morning report)."""

    since: str
    until: str
    done: list[NightTask] = []
    failed: list[NightTask] = []
    deferred: list[NightTask] = []
    # Still open otherwise: running, queued again.
    other: list[NightTask] = []
    runs: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    windows: list[NightWindow] = []


class Subscribed(_Wire):
    subscribed: bool


# -- messages (`podium mcp`'s post and inbox, `podium post`, `podium messages`) --------------
class Message(_Wire):
    """A message (`sessions.messages`): who sent it as the engine knows them (a session's
    name, `task N`, `you`), to whom (`to_kind` session | task | team, `to` as addressed,
    `to_id` the session id, task id or the team's root task id), its body, and when it
    was typed into its session (`delivered_at`) and read."""

    id: int
    sent_at: str
    sender: str
    to_kind: Literal["session", "task", "team"]
    to_id: str
    to: str
    body: str
    sender_session: str | None = None
    sender_task: int | None = None
    delivered_at: str | None = None
    read_at: str | None = None


class PostParams(_Wire):
    """`to`: a session's name, `task:ID`, `team:ID` or `team` (the calling task's own).
    Who sends is the caller's identity, never a name it gives: `from_session` (a
    session's `PODIUM_SESSION_ID`) or `from_task` (a run's `PODIUM_QUEUE_TASK`), which
    the engine must know, or `from_person` (`podium post`)."""

    to: str
    text: str
    from_session: str | None = None
    from_task: int | None = None
    from_person: bool = False


class InboxParams(_Wire):
    """The caller's inbox: a session's (`session_id`) or a task's (`task_id`, with its
    team's board). What it answers is marked read."""

    session_id: str | None = None
    task_id: int | None = None
    unread_only: bool = True
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50


class Inbox(_Wire):
    reader: str
    messages: list[Message]
    # The root task of the reader's team, whose board it reads (a task only).
    team: int | None = None


class MessagesListParams(_Wire):
    """`podium messages`: all, or those to and from a session (by name) or a task, or a
    team's board. Nothing is marked read."""

    session: str | None = None
    task_id: int | None = None
    team: int | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50


# ====================================================================================
# The method table
# ====================================================================================
@dataclass(frozen=True)
class Method(Generic[P, R]):
    """One API method: its name, params Struct and result type."""

    name: str
    params: type[P]
    result: type[R]  # a Struct, or list[Struct]

    def __repr__(self) -> str:
        return f"Method({self.name})"


def _m(name: str, params: type[P], result: type[R]) -> Method[P, R]:
    return Method(name, params, result)


PING = _m("ping", NoParams, Ping)
STATUS = _m("status", NoParams, Status)
SHUTDOWN = _m("shutdown", NoParams, Stopping)
SESSIONS_LIST = _m("sessions.list", NoParams, list[Session])
SESSIONS_GET = _m("sessions.get", SessionRef, Session)
SESSIONS_NEW = _m("sessions.new", NewParams, Session)
SESSIONS_SEND = _m("sessions.send", SendParams, Sent)
SESSIONS_KILL = _m("sessions.kill", KillParams, Killed)
SESSIONS_FOCUS = _m("sessions.focus", SessionRef, FocusedSession)
SESSIONS_RESUME = _m("sessions.resume", ResumeParams, Session)
SESSIONS_RENAME = _m("sessions.rename", RenameParams, Session)
ATTENTION_NEXT = _m("attention.next", NoParams, Next)
REPORTS_ATTENTION = _m("reports.attention", SinceParams, AttentionReport)
USAGE_WINDOWS = _m("usage.windows", NoParams, UsageWindows)
USAGE_RECORD = _m("usage.record", RecordParams, Recorded)
USAGE_INGEST = _m("usage.ingest", IngestParams, Ingested)
USAGE_TOTALS = _m("usage.totals", NoParams, UsageTotals)
REPORTS_USAGE = _m("reports.usage", UsageReportParams, UsageReport)
REPORTS_WASTE = _m("reports.waste", WasteParams, WasteReport)
USAGE_SERIES = _m("usage.series", SeriesParams, Series)
EXPORT_PARQUET = _m("export.parquet", ExportParams, Exported)
STAGE_LAYOUT = _m("stage.layout", NoParams, StageLayout)
STAGE_UP = _m("stage.up", StageUpParams, StageLayout)
STAGE_SHOW = _m("stage.show", SessionRef, FocusedSession)
STAGE_ZOOM = _m("stage.zoom", ZoomParams, Zoomed)
# The tower key (Alt-0) when no live tower stands on stage: as `stage.up`, with no caller.
STAGE_TOWER = _m("stage.tower", NoParams, StageLayout)
QUEUE_LIST = _m("queue.list", QueueListParams, QueueList)
QUEUE_ADD = _m("queue.add", QueueAddParams, Task)
QUEUE_SHOW = _m("queue.show", TaskRef, QueueShow)
# The task and every open task under it; a running one's run is stopped.
QUEUE_CANCEL = _m("queue.cancel", CancelParams, TreeChange)
# The forest of tasks (or one tree) with each subtree's spend against its budget.
QUEUE_TREE = _m("queue.tree", TreeParams, QueueTree)
# Not started until resumed; a running one's run is stopped, its session kept to go on.
QUEUE_PAUSE = _m("queue.pause", PauseParams, TreeChange)
QUEUE_RESUME = _m("queue.resume", PauseParams, TreeChange)
# A failed or cancelled task queued again (a fresh run): its dependents go on once it is done.
QUEUE_RETRY = _m("queue.retry", TaskRef, Task)
QUEUE_REPRIORITISE = _m("queue.reprioritise", ReprioritiseParams, Task)
QUEUE_FILL = _m("queue.fill", FillParams, FillState)
QUEUE_DECIDE = _m("queue.decide", DecideParams, Decided)
# The windows, reserve, the person's forecast and a task's budget left (`podium mcp`).
QUEUE_CAPACITY = _m("queue.capacity", CapacityParams, Capacity)
TEAM_START = _m("team.start", TeamStartParams, Team)
TEAM_LIST = _m("team.list", NoParams, TeamList)
REPORTS_RUNS = _m("reports.runs", SinceParams, RunsReport)
REPORTS_NIGHT = _m("reports.night", NightParams, NightReport)
# Findings over the log: waste, runaway work, attention, fill, model mix (`podium review`).
REPORTS_REVIEW = _m("reports.review", ReviewParams, Review)
# The tower's usage screen: the last review computed, recent enough (`reports.review`'s).
REPORTS_REVIEW_LATEST = _m("reports.review_latest", NoParams, LatestReview)
# An agent reviews the period in spare capacity; its findings join `reports.review`.
REPORTS_REVIEW_AGENT = _m("reports.review_agent", ReviewParams, ReviewQueued)
# Messages: posted by an agent (`podium mcp`) or the person; a session's are typed into
# it once its turn has ended.
MESSAGES_POST = _m("messages.post", PostParams, Message)
MESSAGES_INBOX = _m("messages.inbox", InboxParams, Inbox)
MESSAGES_LIST = _m("messages.list", MessagesListParams, list[Message])
# Not a handler: the server turns the connection into an event stream.
EVENTS_SUBSCRIBE = _m("events.subscribe", NoParams, Subscribed)

METHODS: dict[str, Method[Any, Any]] = {
    m.name: m for m in list(globals().values()) if isinstance(m, Method)
}


# ====================================================================================
# Events: `{"event": NAME, "data": {...}}` lines after `events.subscribe`
# ====================================================================================
class _Event(_Wire, tag_field="event"):
    pass


class SessionRemoved(_Wire):
    id: str
    name: str


class OpenedItem(AttentionItem, kw_only=True):
    session: str
    session_id: str


class TmuxExit(_Wire):
    """podium's tmux server exited under the engine (a crash, a kill): when the engine
    saw it gone, its pid, the sessions that had a pane in it (lost with it), and the
    pid of the server that runs since, if one does."""

    at: str
    pid: int | None = None
    sessions: list[str] = []
    replaced_by: int | None = None


class TmuxState(_Wire):
    """The server came or went (`pid`: the one that runs); `exit`: the last one that
    exited under the engine."""

    alive: bool
    socket: str
    pid: int | None = None
    exit: TmuxExit | None = None


class UsageChange(_Wire):
    """A limit figure changed (`samples`), or the minute's tick (`minute`, `windows`)."""

    samples: list[LimitSample] | UnsetType = UNSET
    minute: str | UnsetType = UNSET
    windows: list[UsageWindow] | UnsetType = UNSET


class UsageLogPass(_Wire):
    """A transcript pass read new lines: its counts and the log's totals."""

    lines: int
    records: int
    messages: int
    totals: LogTotals
    cost_usd: float


class EngineStopping(_Wire):
    stopping: bool
    requested: bool


class QueueChange(_Wire):
    task: TaskRecord | None = None
    run: RunRecord | UnsetType = UNSET


class FillChange(_Wire):
    """`kind` switch (with the fill state) or decisions (a round decided otherwise)."""

    kind: Literal["switch", "decisions"]
    enabled: bool | UnsetType = UNSET
    reserve_pct: float | UnsetType | None = UNSET
    until: str | UnsetType | None = UNSET
    at: str | UnsetType = UNSET
    decisions: list[Decision] | UnsetType = UNSET


class MessageNote(_Wire):
    """A message was posted, or typed into its session (`delivered`)."""

    kind: Literal["posted", "delivered"]
    message: Message


class SessionEvent(_Event, tag="session"):
    data: Session


class SessionRemovedEvent(_Event, tag="session_removed"):
    data: SessionRemoved


class AttentionEvent(_Event, tag="attention"):
    data: OpenedItem


class TmuxEvent(_Event, tag="tmux"):
    data: TmuxState


class UsageEvent(_Event, tag="usage"):
    data: UsageChange


class UsageLogEvent(_Event, tag="usage_log"):
    data: UsageLogPass


class StageEvent(_Event, tag="stage"):
    data: StageLayout


class EngineEvent(_Event, tag="engine"):
    data: EngineStopping


class QueueEvent(_Event, tag="queue"):
    data: QueueChange


class FillEvent(_Event, tag="fill"):
    data: FillChange


class MessageEvent(_Event, tag="message"):
    data: MessageNote


Event = (
    SessionEvent
    | SessionRemovedEvent
    | AttentionEvent
    | TmuxEvent
    | UsageEvent
    | UsageLogEvent
    | StageEvent
    | EngineEvent
    | QueueEvent
    | FillEvent
    | MessageEvent
)
EVENTS: tuple[type[_Event], ...] = (
    SessionEvent,
    SessionRemovedEvent,
    AttentionEvent,
    TmuxEvent,
    UsageEvent,
    UsageLogEvent,
    StageEvent,
    EngineEvent,
    QueueEvent,
    FillEvent,
    MessageEvent,
)

_event_decoder = msgspec.json.Decoder(Event)


def decode_event(line: bytes) -> Event:
    """One event line as its Struct; `msgspec.ValidationError` for anything else."""
    return _event_decoder.decode(line)


def to_builtins(value: Any) -> Any:
    """A result or event as JSON-able builtins (UNSET fields left out)."""
    return msgspec.to_builtins(value)


def from_record(record: Any, into: type[W], **extra: Any) -> W:
    """A record of the engine's (a dataclass: a session, a task, a run, an attention
    item, a limit sample) as the wire Struct `into`, by msgspec's own conversion:
    fields by name, the record's others dropped, `extra` for the fields it lacks.
    Times become ISO 8601 strings in UTC with `+00:00`, as they always were on the
    wire (msgspec's own encoding would write `Z`)."""
    data = msgspec.to_builtins(record, builtin_types=(datetime,))
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.astimezone(UTC).isoformat()
    data.update(extra)
    return msgspec.convert(data, into)
