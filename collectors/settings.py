"""podium's settings: one model, one TOML file, environment overrides.

The file is `PODIUM_CONFIG` or `<user config dir>/podium/config.toml`; it is
optional. Every key is documented by the docstring under its field (listed by
`documented_keys`; the tower's help shows the `[keys]` ones). Any key can be
overridden from the environment as `PODIUM_<SECTION>__<KEY>` (e.g.
`PODIUM_ENGINE__SWEEP_INTERVAL=0.5`); the
documented shortcuts `PODIUM_TMUX_SOCKET` and `PODIUM_CLAUDE_BIN` also work.

A bad file never crashes with a traceback: `load_settings` raises
`SettingsError` whose message names the file and the key.

The sections are msgspec Structs: `msgspec.convert` checks types and the
`Meta` bounds and patterns, `forbid_unknown_fields` reports a wrong key, and
the checks no annotation can say run in `__post_init__`, whose errors name
their key as `[key] why` (msgspec reports them at the enclosing table).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import Meta, field

from collectors import paths

AgentName = Literal["claude", "sim", "codex", "aider", "shell"]
ScreenState = Literal["busy", "retrying", "waiting", "interrupted", "permission", "limited", "idle"]
# Values podium puts into tmux formats and key bindings: kept to characters that
# mean nothing to tmux's parser or its format language.
# Patterns are searched (`re.search`), so each is anchored, with `\Z`: `$` would
# also match before a final newline.
_TMUX_NAME = r"^[A-Za-z0-9_-]{1,32}\Z"
_TMUX_KEY = r"^[A-Za-z0-9_-]{1,32}\Z"
_TMUX_STYLE = r"^[A-Za-z0-9=,# _-]{0,80}\Z"
NotifyMode = Literal["auto", "notify-send", "osc", "off"]


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A config table: immutable, keyword-built, and strict about its keys."""


class TmuxSettings(_Section):
    socket: str = "podium"
    """Private tmux server: a socket name for `tmux -L`, or a path (with '/') for `tmux -S`."""

    session_name: Annotated[str, Meta(pattern=_TMUX_NAME)] = "podium"
    """Name of the tmux session that holds the control tower and the agent panes
    (letters, digits, '-' and '_': tmux turns ':' and '.' into '_', and podium
    addresses the session as `-t =NAME:`)."""

    config: str = ""
    """The tmux config file podium's private server reads when podium starts it.
    Empty: none. Your own `~/.tmux.conf` is for your tmux; a setting there can break
    podium's (`window-size manual` crashes tmux 3.3a on `new-window`). A path (e.g.
    "~/.tmux.conf") loads that file anyway."""

    source_user_conf: bool = False
    """true: podium's private server reads your own tmux config, as your tmux does
    (`/etc/tmux.conf`, `~/.tmux.conf`, `~/.config/tmux/tmux.conf`), for your key
    bindings and looks. Off by default: a setting there can break podium's server. Not
    with `config` (put `source-file ~/.tmux.conf` in that file instead)."""

    def __post_init__(self) -> None:
        if self.config and self.source_user_conf:
            raise _invalid(
                "source_user_conf",
                "cannot go with `config`: put `source-file ~/.tmux.conf` at the top of "
                f"{self.config} instead",
            )


class AgentSettings(_Section):
    default: AgentName = "claude"
    """Agent started by `podium new` when `--agent` is not given."""

    claude_bin: str = "claude"
    """The Claude Code executable: a name looked up on PATH, or a path."""

    codex_bin: str = "codex"
    """The Codex CLI executable."""

    aider_bin: str = "aider"
    """The Aider executable."""

    shell: str = ""
    """Shell for `--agent shell`; empty means `$SHELL`, else /bin/sh."""

    hook_timeout: Annotated[int, Meta(ge=1, le=600)] = 10
    """Timeout in seconds that Claude Code gives each podium hook command."""

    hooks: bool = True
    """Give claude and sim sessions podium's hooks (a `--settings` file); false reads their
    screens instead. `podium new --no-hooks` does this for one session."""

    mcp: bool = True
    """Give every Claude session and background run podium starts podium's MCP tools
    (`podium mcp`: capacity, the queue, the other sessions) through `--mcp-config`, a
    file of podium's own; the person's Claude config is never written. False: none."""

    pass_env: list[str] = field(default_factory=list)
    """More environment variables an agent gets from `podium new`'s caller: names, or
    patterns such as `MY_TOOL_*`. Without them it gets only what a coding agent needs
    (PATH, HOME, the locale, the terminal, proxies, SSH_AUTH_SOCK, XDG_*, the agents' own
    ANTHROPIC_*, CLAUDE_*, OPENAI_*, AWS_*, GOOGLE_* and PODIUM_* variables; see the
    architecture doc), never the rest of the caller's environment."""

    def __post_init__(self) -> None:
        for name in self.pass_env:
            if not re.fullmatch(r"[A-Za-z_*?][A-Za-z0-9_*?]*", name):
                raise _invalid(
                    "pass_env",
                    f"{name!r} is not an environment variable name (letters, digits, _; "
                    "* and ? as wildcards)",
                )


class EngineSettings(_Section):
    sweep_interval: Annotated[float, Meta(gt=0.05, le=60)] = 1.0
    """Seconds between two tmux sweeps (one `list-panes -a`) while something moves."""

    sweep_max_interval: Annotated[float, Meta(gt=0.05, le=300)] = 1.5
    """Longest gap between two sweeps once nothing moves (no session busy or starting).
    A screen-only agent that a person wakes by typing into its pane directly can be seen
    this late; commands through podium wake the sweep at once."""

    sweep_backoff: Annotated[float, Meta(ge=1.0, le=10)] = 1.5
    """Factor by which the gap between quiet sweeps grows, up to `sweep_max_interval`."""

    busy_cpu: Annotated[float, Meta(gt=0, le=1)] = 0.05
    """Share of one CPU core a pane's process tree must use between two sweeps to count as
    busy, for agents whose screen says nothing."""

    start_timeout: Annotated[float, Meta(gt=0, le=300)] = 15.0
    """Seconds a command waits for an engine it started on demand to answer."""


class ProfileRule(_Section):
    pattern: str
    """Regular expression (Python syntax; `^`/`$` match at every line, `\\Z` at the end of
    the screen) searched in the last `lines` lines of the pane's visible screen."""

    state: ScreenState
    """What a match means: busy, retrying (an API call being retried), permission, limited,
    idle (a shell prompt), waiting (the agent's input prompt: `waiting` after a turn, `idle`
    when it was never busy) or interrupted (the person took the prompt over: Esc, a declined
    dialog, typed text; `idle` after work). The full table is in `sessions.state`."""

    detail: str = ""
    """Note stored with the state change (default: the rule's state and pattern)."""

    def __post_init__(self) -> None:
        # Compiled here, at load time, so a typo is reported with the file and the key
        # instead of breaking the engine's sweep later.
        try:
            re.compile(self.pattern, re.MULTILINE)
        except re.error as exc:
            raise _invalid("pattern", f"not a valid regular expression ({exc})") from None


class ProfileSettings(_Section):
    rules: tuple[ProfileRule, ...] = ()
    """Rules `{pattern, state, detail}` tried in order before the built-in ones; the first
    match wins."""

    replace: bool = False
    """Use only these rules, dropping the agent's built-in ones."""

    lines: Annotated[int, Meta(ge=1, le=500)] | None = None
    """How many lines at the bottom of the screen the rules look at (default: built-in)."""

    hooks_silent_after: Annotated[float, Meta(ge=0, le=3600)] | None = None
    """claude/sim: seconds after launch without any hook event after which podium reads the
    screen instead (default: built-in, 10)."""


class UiSettings(_Section):
    stage_size: Annotated[int, Meta(ge=1, le=9)] = 3
    """How many agent panes stand side by side next to the control tower (`podium up`); a
    window too narrow for them all to have `session_min_width` columns shows fewer."""

    session_min_width: Annotated[int, Meta(ge=20, le=500)] = 60
    """Fewest columns of an agent pane on stage (Claude Code's dialogs need about 60): a
    narrower window shows fewer sessions, down to one beside the tower, and the others
    wait parked (Alt-Space, Alt-1...9 or Enter in the tower bring one forward)."""

    theme: str = "podium-dark"
    """Textual theme of the control tower (built-in, podium's, or a user theme)."""

    tower_window: Annotated[str, Meta(pattern=_TMUX_NAME)] = "tower"
    """Name of the tmux window the control tower runs in (the tower key selects it)."""


AttentionKind = Literal["permission", "waiting", "limited"]


def _default_order() -> list[AttentionKind | list[AttentionKind]]:
    return ["permission", ["waiting", "limited"]]


class AttentionSettings(_Section):
    """Who needs you first: the order of `podium ls`, the tower, `podium next` and Alt-Space."""

    order: list[AttentionKind | list[AttentionKind]] = field(default_factory=_default_order)
    """Sessions that need you, by what they need: each entry a kind (`permission`: a
    dialog blocks it mid-task; `waiting`: its turn ended, `seen` ones included;
    `limited`: a usage limit), or a list of kinds that share a place; oldest first
    within a place; kinds left out come after the listed ones. Then busy and retrying
    sessions (longest first), then the others. E.g. `["permission", "waiting", "limited"]`."""

    def __post_init__(self) -> None:
        kinds = [k for entry in self.order for k in ([entry] if isinstance(entry, str) else entry)]
        twice = sorted({k for k in kinds if kinds.count(k) > 1})
        if twice:
            raise _invalid("order", f"{', '.join(twice)} listed more than once")


class CuesSettings(_Section):
    """What podium shows and rings in tmux. Only podium's own tmux server is touched."""

    keys: bool = True
    """Install podium's key bindings (root table: no prefix) on podium's tmux server."""

    next_key: Annotated[str, Meta(pattern=_TMUX_KEY)] = "M-Space"
    """Key (tmux name) that jumps to the session that needs you first, as `podium next`."""

    tower_key: Annotated[str, Meta(pattern=_TMUX_KEY)] = "M-0"
    """Key (tmux name) that goes to the control tower (`ui.tower_window`), and starts it
    again when it was closed (q) or is not there yet."""

    session_keys: bool = True
    """Bind Alt-1 ... Alt-9 to sessions 1-9: podium's sessions in creation order, the
    number shown in each pane's border title."""

    mouse: bool = True
    """tmux's mouse on podium's own server: a click selects a pane (in the tower, a
    session's row), the wheel scrolls a pane's history, dragging a border resizes.
    false turns it off there; your other tmux servers are never touched."""

    border: bool = True
    """Pane border titles with the session's number, name and state, coloured by state."""

    status: bool = True
    """Counts of busy, waiting, seen, permission and limited sessions on the right of the
    status line."""

    bell: bool = True
    """Ring the terminal bell of attached clients when a session starts to need you."""

    message: bool = True
    """Show a tmux message in attached clients when a session starts to need you."""

    notify: NotifyMode = "auto"
    """Desktop notification when a session starts to need you: `notify-send` (argv, no
    shell), `osc` (an OSC escape written to attached clients' terminals), `auto`
    (notify-send where it is installed and works, else osc) or `off`."""

    osc: int = 777
    """Which OSC notification escape: 777 (urxvt, foot, kitty, WezTerm, Ghostty) or 9
    (iTerm2, Windows Terminal)."""

    coalesce_s: Annotated[float, Meta(ge=0, le=30)] = 0.5
    """Seconds an alert waits for others, so that a burst becomes one alert."""

    session_quiet_s: Annotated[float, Meta(ge=0, le=3600)] = 5.0
    """A session alerts at most once per this many seconds (against flapping)."""

    alerts_per_minute: Annotated[int, Meta(ge=1, le=600)] = 6
    """At most this many alerts a minute; the rest wait and go out as one."""

    stale_s: Annotated[float, Meta(ge=0, le=86400)] = 60.0
    """Items older than this when the engine learns of them (hooks spooled while no
    engine ran) open silently."""

    style_starting: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=colour244"
    """tmux style of a starting session's border title."""

    style_busy: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=blue"
    """tmux style of a busy session's border title and count."""

    style_waiting: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=green,bold"
    """tmux style of a session waiting for you."""

    style_retrying: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=yellow"
    """tmux style of a session whose agent retries a failed API call."""

    style_seen: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=green"
    """tmux style of a session whose finished turn you looked at but did not answer."""

    style_permission: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=red,bold"
    """tmux style of a session asking permission."""

    style_limited: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=magenta,bold"
    """tmux style of a session that hit a usage limit."""

    style_idle: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "default"
    """tmux style of an idle session."""

    style_exited: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=colour244"
    """tmux style of an exited session."""

    style_lost: Annotated[str, Meta(pattern=_TMUX_STYLE)] = "fg=colour244"
    """tmux style of a lost session (its pane is gone)."""

    def __post_init__(self) -> None:
        # An int, not a Literal: `PODIUM_CUES__OSC=9` arrives as a string.
        if self.osc not in (777, 9):
            raise _invalid("osc", "choose 777 or 9")


class UsageSettings(_Section):
    tick_interval: Annotated[float, Meta(ge=0.5, le=3600)] = 60.0
    """Seconds between two samples of every limit window and of each session's processes
    into the usage log (tables limit_series, process_samples); aligned to the clock."""

    fresh_minutes: Annotated[float, Meta(gt=0, le=7 * 24 * 60)] = 15.0
    """An official limit figure older than this many minutes gives way to an estimate
    from local tokens (labelled `estimate`)."""

    plan: Literal["pro", "max5", "max20"] = "pro"
    """Your Claude plan: picks a rough capacity for estimates until an official figure
    has calibrated it."""

    five_hour_capacity: Annotated[int, Meta(ge=0)] = 0
    """Weighted tokens (input + cache writes + output x5 + cache reads /10) of a full
    5-hour window, for estimates; 0 = from `plan`, until calibrated."""

    seven_day_capacity: Annotated[int, Meta(ge=0)] = 0
    """Weighted tokens of a full 7-day window, for estimates; 0 = 12 five-hour windows."""

    endpoint: bool = False
    """Ask Anthropic's usage endpoint (undocumented; network; sends your Claude OAuth token
    from `.credentials.json`) for official figures. Off unless you turn it on."""

    endpoint_url: str = "https://api.anthropic.com/api/oauth/usage"
    """The usage endpoint (https, or http to a loopback address only)."""

    endpoint_interval: Annotated[float, Meta(ge=1, le=86400)] = 600.0
    """Seconds between two calls of the usage endpoint (it is rate-limited itself)."""

    def __post_init__(self) -> None:
        # It is sent the user's OAuth token: never in clear text over a network.
        from collectors.limit_files import EndpointError, check_endpoint_url

        try:
            check_endpoint_url(self.endpoint_url)
        except EndpointError as exc:
            raise _invalid("endpoint_url", str(exc)) from None


class StatuslineSettings(_Section):
    chain: str = "auto"
    """Statusline command whose output `podium statusline` prints after its usage line
    (it gets the same JSON on stdin). "auto" = the statusLine command of your own Claude
    settings; "" = none."""


_CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d\Z"


_DAY = "(mon|tue|wed|thu|fri|sat|sun)"
_DAYS = rf"^{_DAY}(-{_DAY})?(,{_DAY}(-{_DAY})?)*\Z"


class ReserveRuleSettings(_Section):
    """One rule of the reserve schedule; the first rule that matches the time wins."""

    five_hour_pct: Annotated[float, Meta(ge=0, le=100)]
    """Share of the 5-hour window kept for you while this rule applies."""
    days: Annotated[str, Meta(pattern=_DAYS)] | None = None
    """Weekdays it applies on, e.g. `mon-fri` or `sat,sun` (none: every day)."""
    start: Annotated[str, Meta(pattern=_CLOCK)] | None = field(default=None, name="from")
    """Local time it starts, HH:MM (with `to`; none: all day)."""
    end: Annotated[str, Meta(pattern=_CLOCK)] | None = field(default=None, name="to")
    """Local time it ends, HH:MM."""


def _default_reserve() -> list[ReserveRuleSettings]:
    return [
        ReserveRuleSettings(days="mon-fri", start="09:00", end="19:00", five_hour_pct=30.0),
        ReserveRuleSettings(five_hour_pct=5.0),
    ]


class FillSettings(_Section):
    reserve: list[ReserveRuleSettings] = field(default_factory=_default_reserve)
    """The share of the 5-hour window background fill keeps for you, by time of day
    (`[[fill.reserve]]` tables with `days`, `from`, `to`, `five_hour_pct`; first match
    wins). Default: 30% on weekdays 09:00-19:00, 5% otherwise."""
    reserve_pct: Annotated[float, Meta(ge=0, le=100)] | None = None
    """One share for all times instead of the schedule (`podium fill --reserve`
    overrides either for one fill)."""
    tz: str = ""
    """Time zone of the night window and reserve schedules ("" = the system's)."""
    night_start: Annotated[str, Meta(pattern=_CLOCK)] = "01:00"
    """Start of the night window (`podium queue add --window night`), HH:MM."""
    night_end: Annotated[str, Meta(pattern=_CLOCK)] = "07:00"
    """End of the night window, HH:MM."""
    max_concurrent: Annotated[int, Meta(ge=1, le=16)] = 1
    """Background runs at most at once."""
    interval: Annotated[float, Meta(ge=0.5, le=3600)] = 30.0
    """Seconds between two scheduler rounds (it also runs when a task or run changes)."""
    resume_prompt: str = "Continue where you left off."
    """What a run resumed after a usage limit or an interruption is told."""
    on_change_debounce: Annotated[float, Meta(ge=0, le=3600)] = 2.0
    """Seconds of quiet after a change before an `--on-change` task is queued."""
    keep_streams_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    """Days a finished run's stream file is kept for `podium queue log`; older ones
    are deleted (the run's outcome, tokens and cost stay in the log)."""
    pause_mode: Literal["finish", "interrupt"] = "finish"
    """When you get busy and fill's share threatens your reserve: `finish` lets the
    running tasks end and launches nothing more; `interrupt` also stops them,
    newest first, and queues them again (they resume their Claude session)."""
    weekly_margin_pct: Annotated[float, Meta(ge=0, le=100)] = 2.0
    """Share of the weekly window fill never spends, on top of your forecast use."""
    spend_all_within_hours: Annotated[float, Meta(ge=0, le=168)] = 5.0
    """Within this many hours of the weekly reset, fill may spend everything your
    forecast leaves (before, it paces the week)."""
    night_budget_pct: Annotated[float, Meta(ge=0, le=100)] | None = None
    """The most fill may spend in one night window, in % of the weekly window
    (none: the night has no budget of its own)."""
    default_estimate_pct: Annotated[float, Meta(gt=0, le=100)] = 5.0
    """What a task with no `--estimate` and no earlier run of its kind is expected to
    cost, in % of the 5-hour window (later runs of the same kind learn the real cost)."""
    agent_task_budget: Annotated[str, Meta(min_length=1)] = "5%5h"
    """The budget of a task an agent queues from a person's interactive session
    (`podium mcp`'s `queue_task` with no parent task) when it gives none, and the most
    it may give: an amount (5%5h, 1%week, 50k, $1). A background run's subtasks spend
    out of their parent's budget instead."""
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 5
    """Runs a task gets at most: a usage limit defers it to the reset and an API
    error, an interrupted run or `error_during_execution` to a backoff, each an
    attempt; after the last the task fails with every attempt's reason."""
    retry_backoff: Annotated[float, Meta(ge=0, le=3600)] = 60.0
    """Seconds before the second attempt after a transient failure; doubled at each
    further attempt, up to an hour."""
    enabled: bool = False
    """Switch fill on whenever the engine starts (it stays on without a terminal held
    open; `podium fill --off`, the tower's `f` or `podium engine stop` stop it)."""
    schedule: Literal["", "night"] = ""
    """"night": switch fill on at `night_start` and off at `night_end`, every day, from
    the engine (as `podium fill --nightly`); "" leaves the switch to you."""


# A comma-separated list of Textual key names ("tab,space", "ctrl+p", "question_mark"
# or "?"), without whitespace inside a name.
_KEY_LIST = r"^\s*[^\s,]+(\s*,\s*[^\s,]+)*\s*\Z"


class KeySettings(_Section):
    """Keys of the control tower: each a comma-separated list of Textual key names."""

    up: Annotated[str, Meta(pattern=_KEY_LIST)] = "up,k"
    """Select the session above."""

    down: Annotated[str, Meta(pattern=_KEY_LIST)] = "down,j"
    """Select the session below."""

    focus: Annotated[str, Meta(pattern=_KEY_LIST)] = "enter"
    """Bring the selected session's pane into view (on stage, or focus its pane)."""

    next: Annotated[str, Meta(pattern=_KEY_LIST)] = "tab,space"
    """Jump to the session that needs you first."""

    new: Annotated[str, Meta(pattern=_KEY_LIST)] = "n"
    """Open the new-session dialog."""

    send: Annotated[str, Meta(pattern=_KEY_LIST)] = "s"
    """Type a line of text into the selected session."""

    kill: Annotated[str, Meta(pattern=_KEY_LIST)] = "x"
    """Kill the selected session (asks first)."""

    rename: Annotated[str, Meta(pattern=_KEY_LIST)] = "r"
    """Rename the selected session."""

    diff: Annotated[str, Meta(pattern=_KEY_LIST)] = "d"
    """Show the selected session's changes: a diff of its directory since it started."""

    fill: Annotated[str, Meta(pattern=_KEY_LIST)] = "f"
    """Switch background fill on or off."""

    exited: Annotated[str, Meta(pattern=_KEY_LIST)] = "e"
    """Show or hide exited sessions (hidden, as in `podium ls`)."""

    usage: Annotated[str, Meta(pattern=_KEY_LIST)] = "u"
    """Open the usage screen."""

    background: Annotated[str, Meta(pattern=_KEY_LIST)] = "b"
    """Open the background-queue screen."""

    tree: Annotated[str, Meta(pattern=_KEY_LIST)] = "t"
    """On the background screen: the tasks as trees (subtasks under their task), or a list."""

    pause: Annotated[str, Meta(pattern=_KEY_LIST)] = "p"
    """On the background screen: pause the selected task and those under it, or resume it."""

    help: Annotated[str, Meta(pattern=_KEY_LIST)] = "question_mark"
    """Show the keys and what the colours mean."""

    palette: Annotated[str, Meta(pattern=_KEY_LIST)] = "ctrl+p"
    """Open the command palette."""

    quit: Annotated[str, Meta(pattern=_KEY_LIST)] = "q"
    """Leave the control tower; the sessions go on running."""


class ModelPrice(_Section):
    """USD per million tokens for one model pattern (see `[prices]`)."""

    input: Annotated[float, Meta(ge=0)]
    """Input tokens."""

    output: Annotated[float, Meta(ge=0)]
    """Output tokens."""

    cache_write_5m: Annotated[float, Meta(ge=0)] | None = None
    """Cache writes with a 5-minute lifetime; default 1.25x input."""

    cache_write_1h: Annotated[float, Meta(ge=0)] | None = None
    """Cache writes with a 1-hour lifetime; default 2x input."""

    cache_read: Annotated[float, Meta(ge=0)] | None = None
    """Cache reads; default 0.1x input."""


class ReviewSettings(_Section):
    """`podium review`: the agent's review of the period (`podium review --agent`)."""

    agent_weekly: bool = True
    """While fill is on, queue the agent's review once a week (it runs in spare capacity
    like any background task); false: only when you ask with `podium review --agent`."""

    agent_budget: str = "2%week"
    """Most the agent's review may spend: an amount as `podium queue add --budget` takes
    it ("2%week", "200k", "$1.50")."""

    agent_model: str = ""
    """Model of the agent's review ("" = Claude Code's default)."""

    agent_transcripts: bool = False
    """Let the agent read the transcripts of the sessions a finding names (their paths go
    in its digest). Off: it sees only the digest of figures and findings."""


class PriceSettings(_Section):
    models: dict[str, ModelPrice] = {}
    """Prices that come before podium's built-in table, by model-name pattern (shell-style,
    e.g. `[prices.models."claude-opus-4-5*"]` with `input = 5` and `output = 25`, in USD per
    million tokens). Used for the usage log's `cost_usd` estimates; stored costs are
    recomputed when a price changes."""


class Settings(_Section):
    """Everything configurable, with its default."""

    tmux: TmuxSettings = field(default_factory=TmuxSettings)
    agents: AgentSettings = field(default_factory=AgentSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    usage: UsageSettings = field(default_factory=UsageSettings)
    statusline: StatuslineSettings = field(default_factory=StatuslineSettings)
    profiles: dict[str, ProfileSettings] = field(default_factory=dict)
    """Screen profiles per agent (`[profiles.<agent>]`), added to the built-in ones."""
    attention: AttentionSettings = field(default_factory=AttentionSettings)
    cues: CuesSettings = field(default_factory=CuesSettings)
    keys: KeySettings = field(default_factory=KeySettings)
    fill: FillSettings = field(default_factory=FillSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)

    prices: PriceSettings = field(default_factory=PriceSettings)

    def __post_init__(self) -> None:
        # Keyed by agent name; checked here (not as a Literal key) so that the error
        # names the table, `profiles.<name>`.
        agents = get_args(AgentName)
        for name in self.profiles:
            if name not in agents:
                raise _invalid(f"profiles.{name}", f"not an agent ({', '.join(agents)})")


class SettingsError(Exception):
    """A config file that cannot be used; the message says where and why."""


# Documented shortcuts: env var -> (section, key).
ENV_SHORTCUTS = {
    "PODIUM_TMUX_SOCKET": ("tmux", "socket"),
    "PODIUM_CLAUDE_BIN": ("agents", "claude_bin"),
}


# The words an environment variable may use for a boolean, besides true/false/1/0.
_BOOL_WORDS = {"yes": True, "y": True, "on": True, "t": True}
_BOOL_WORDS |= {"no": False, "n": False, "off": False, "f": False}


def _env_value(section: str, key: str, value: str) -> str | bool:
    sections = {f.name: f.type for f in msgspec.structs.fields(Settings)}
    model = sections.get(section)
    if isinstance(model, type) and issubclass(model, _Section):
        types = {f.name: f.type for f in msgspec.structs.fields(model)}
        if types.get(key) is bool and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
    return value


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, str | bool]]:
    out: dict[str, dict[str, str | bool]] = {}
    for name, value in environ.items():
        if name in ENV_SHORTCUTS:
            section, key = ENV_SHORTCUTS[name]
        elif name.startswith("PODIUM_") and "__" in name:
            section, _, key = name[len("PODIUM_") :].lower().partition("__")
        else:
            continue
        out.setdefault(section, {})[key] = _env_value(section, key, value)
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _invalid(key: str, why: str) -> ValueError:
    """An error of a `__post_init__` check; msgspec reports it at the table, so the
    message carries the key (read back by `_describe`)."""
    return ValueError(f"[{key}] {why}")


# msgspec's message: "<why> - at `$.a.b[0].c`", or "... - at `key` in `$.a`" for a
# mapping key, or no location at the top level.
_LOCATED = re.compile(r"(?s)(?P<why>.*?)(?: - at `(?:key` in `)?\$(?P<path>[^`]*)`)?")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]*)`")
_OWN_KEY = re.compile(r"(?s)\[(?P<key>[^\]]+)\] (?P<why>.*)")


def _describe(error: msgspec.ValidationError) -> str:
    """`unknown key 'a.b'` or `key 'a.b': why`, from msgspec's message."""
    located = _LOCATED.fullmatch(str(error))
    assert located is not None  # every string matches
    why, path = located["why"], located["path"] or ""
    parts = [p for p in re.split(r"\.|\[(\d+)\]", path) if p]
    if unknown := _UNKNOWN.fullmatch(why):
        return f"unknown key '{'.'.join([*parts, unknown['key']])}'"
    if own := _OWN_KEY.fullmatch(why):
        parts.append(own["key"])
        why = own["why"]
    return f"key '{'.'.join(parts)}': {why}"


def _convert(data: dict[str, Any]) -> Settings:
    # strict=False: the environment's strings become numbers and booleans.
    try:
        return msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise _in_mapping(data, exc) from None


# Tables keyed by a name of the user's: msgspec says `$.profiles[...]`, not which.
_MAPPINGS: dict[str, type[_Section]] = {
    "profiles": ProfileSettings,
    "prices.models": ModelPrice,
}


def _in_mapping(data: dict[str, Any], error: msgspec.ValidationError) -> Exception:
    """The error, its `[...]` replaced by the key of the first table that fails alone."""
    message = str(error)
    for path, model in _MAPPINGS.items():
        marker = f"$.{path}[...]"
        if marker not in message:
            continue
        tables: Any = data
        for part in path.split("."):
            tables = tables.get(part, {}) if isinstance(tables, dict) else {}
        for key, table in tables.items() if isinstance(tables, dict) else ():
            try:
                msgspec.convert(table, model, strict=False)
            except msgspec.ValidationError:
                if re.fullmatch(r"[A-Za-z0-9_-]+", key):
                    return msgspec.ValidationError(message.replace(marker, f"$.{path}.{key}"))
                return msgspec.ValidationError(message.replace(marker, f'$.{path}."{key}"'))
    return error


def load_settings(file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read the config file (if any) and the environment into `Settings`."""
    file = file or paths.config_file()
    environ = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config error in {file}: not valid TOML ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config error in {file}: cannot read it ({exc})") from None
    try:
        _convert(data)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"config error in {file}: {_describe(exc)}") from None
    try:
        return _convert(_merge(data, _env_overrides(environ)))
    except msgspec.ValidationError as exc:
        raise SettingsError(
            f"config error in the environment: {_describe(exc)} (from a PODIUM_* variable)"
        ) from None


def documented_keys() -> list[tuple[str, str, str]]:
    """(key, default, docstring) for every setting, for help output and the docs."""
    rows: list[tuple[str, str, str]] = []
    for section in msgspec.structs.fields(Settings):
        model, prefix = section.type, section.name
        if section.name == "profiles":  # a table per agent: [profiles.<agent>]
            model, prefix = ProfileSettings, f"{section.name}.<agent>"
        assert isinstance(model, type) and issubclass(model, _Section)
        rows.extend((f"{prefix}.{key}", default, doc) for key, default, doc in field_docs(model))
    rows.extend(
        (f"profiles.<agent>.rules[].{key}", default, doc)
        for key, default, doc in field_docs(ProfileRule)
    )
    return rows


def field_docs(model: type[_Section]) -> list[tuple[str, str, str]]:
    """(field, default, docstring) of each field of a table, in order; the docstring is
    the string literal under the field in the source, read only when asked for."""
    import ast  # only the help screens read the docstrings: every command loads settings
    import inspect  # the same: kept off the start-up path

    docs: dict[str, str] = {}
    body = ast.parse(inspect.cleandoc("\n" + inspect.getsource(model))).body[0]
    assert isinstance(body, ast.ClassDef)
    for node, after in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    rows = []
    for info in msgspec.structs.fields(model):
        if info.required:
            default = "(required)"
        elif info.default is not msgspec.NODEFAULT:
            default = repr(info.default)
        else:
            default = repr(info.default_factory())
        rows.append((info.name, default, docs.get(info.name, "")))
    return rows
