"""podium's settings: one model, one TOML file, environment overrides.

The file is `PODIUM_CONFIG` or `<user config dir>/podium/config.toml`; it is
optional. Every key is documented by the docstring under its field (shown by
`podium config --help-keys`). Any key can be overridden from the environment as
`PODIUM_<SECTION>__<KEY>` (e.g. `PODIUM_ENGINE__SWEEP_INTERVAL=0.5`); the
documented shortcuts `PODIUM_TMUX_SOCKET` and `PODIUM_CLAUDE_BIN` also work.

A bad file never crashes with a traceback: `load_settings` raises
`SettingsError` whose message names the file and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collectors import paths

AgentName = Literal["claude", "sim", "codex", "aider", "shell"]
ScreenState = Literal["busy", "waiting", "permission", "limited", "idle"]
# Values podium puts into tmux formats and key bindings: kept to characters that
# mean nothing to tmux's parser or its format language.
_TMUX_NAME = r"^[A-Za-z0-9_-]{1,32}$"
_TMUX_KEY = r"^[A-Za-z0-9_-]{1,32}$"
_TMUX_STYLE = r"^[A-Za-z0-9=,# _-]{0,80}$"
NotifyMode = Literal["auto", "notify-send", "osc", "off"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class TmuxSettings(_Section):
    socket: str = "podium"
    """Private tmux server: a socket name for `tmux -L`, or a path (with '/') for `tmux -S`."""

    session_name: str = Field(default="podium", pattern=_TMUX_NAME)
    """Name of the tmux session that holds the control tower and the agent panes
    (letters, digits, '-' and '_': tmux turns ':' and '.' into '_', and podium
    addresses the session as `-t =NAME:`)."""


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

    hook_timeout: int = Field(default=10, ge=1, le=600)
    """Timeout in seconds that Claude Code gives each podium hook command."""

    hooks: bool = True
    """Give claude and sim sessions podium's hooks (a `--settings` file); false reads their
    screens instead. `podium new --no-hooks` does this for one session."""

    pass_env: list[str] = Field(default_factory=list)
    """More environment variables an agent gets from `podium new`'s caller: names, or
    patterns such as `MY_TOOL_*`. Without them it gets only what a coding agent needs
    (PATH, HOME, the locale, the terminal, proxies, SSH_AUTH_SOCK, XDG_*, the agents' own
    ANTHROPIC_*, CLAUDE_*, OPENAI_*, AWS_*, GOOGLE_* and PODIUM_* variables; see the
    architecture doc), never the rest of the caller's environment."""

    @field_validator("pass_env")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_*?][A-Za-z0-9_*?]*", name):
                raise ValueError(
                    f"{name!r} is not an environment variable name (letters, digits, _; "
                    "* and ? as wildcards)"
                )
        return value


class EngineSettings(_Section):
    sweep_interval: float = Field(default=1.0, gt=0.05, le=60)
    """Seconds between two tmux sweeps (one `list-panes -a`) while something moves."""

    sweep_max_interval: float = Field(default=1.5, gt=0.05, le=300)
    """Longest gap between two sweeps once nothing moves (no session busy or starting).
    A screen-only agent that a person wakes by typing into its pane directly can be seen
    this late; commands through podium wake the sweep at once."""

    sweep_backoff: float = Field(default=1.5, ge=1.0, le=10)
    """Factor by which the gap between quiet sweeps grows, up to `sweep_max_interval`."""

    busy_cpu: float = Field(default=0.05, gt=0, le=1)
    """Share of one CPU core a pane's process tree must use between two sweeps to count as
    busy, for agents whose screen says nothing."""

    start_timeout: float = Field(default=15.0, gt=0, le=300)
    """Seconds a command waits for an engine it started on demand to answer."""


class ProfileRule(_Section):
    pattern: str
    """Regular expression (Python syntax; `^`/`$` match at every line, `\\Z` at the end of
    the screen) searched in the last `lines` lines of the pane's visible screen."""

    state: ScreenState
    """What a match means: busy, permission, limited, idle, or waiting (the agent's input
    prompt: `waiting` after a turn, `idle` when it was never busy)."""

    detail: str = ""
    """Note stored with the state change (default: the rule's state and pattern)."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        # Compiled here, at load time, so a typo is reported with the file and the key
        # instead of breaking the engine's sweep later.
        try:
            re.compile(value, re.MULTILINE)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value


class ProfileSettings(_Section):
    rules: tuple[ProfileRule, ...] = ()
    """Rules `{pattern, state, detail}` tried in order before the built-in ones; the first
    match wins."""

    replace: bool = False
    """Use only these rules, dropping the agent's built-in ones."""

    lines: int | None = Field(default=None, ge=1, le=500)
    """How many lines at the bottom of the screen the rules look at (default: built-in)."""

    hooks_silent_after: float | None = Field(default=None, ge=0, le=3600)
    """claude/sim: seconds after launch without any hook event after which podium reads the
    screen instead (default: built-in, 10)."""


class UiSettings(_Section):
    stage_size: int = Field(default=3, ge=1, le=9)
    """How many agent panes stand side by side next to the control tower (`podium up`); a
    window too narrow for them all to have 12 columns shows fewer."""

    theme: str = "podium-dark"
    """Textual theme of the control tower (built-in, podium's, or a user theme)."""

    tower_window: str = Field(default="tower", pattern=_TMUX_NAME)
    """Name of the tmux window the control tower runs in (the tower key selects it)."""


class CuesSettings(_Section):
    """What podium shows and rings in tmux. Only podium's own tmux server is touched."""

    keys: bool = True
    """Install podium's key bindings (root table: no prefix) on podium's tmux server."""

    next_key: str = Field(default="M-Space", pattern=_TMUX_KEY)
    """Key (tmux name) that jumps to the session waiting longest for you, as `podium next`."""

    tower_key: str = Field(default="M-0", pattern=_TMUX_KEY)
    """Key (tmux name) that selects the control tower's window (`ui.tower_window`)."""

    session_keys: bool = True
    """Bind Alt-1 ... Alt-9 to sessions 1-9: podium's sessions in creation order, the
    number shown in each pane's border title."""

    border: bool = True
    """Pane border titles with the session's number, name and state, coloured by state."""

    status: bool = True
    """Counts of busy, waiting, permission and limited sessions on the right of the
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

    coalesce_s: float = Field(default=0.5, ge=0, le=30)
    """Seconds an alert waits for others, so that a burst becomes one alert."""

    session_quiet_s: float = Field(default=5.0, ge=0, le=3600)
    """A session alerts at most once per this many seconds (against flapping)."""

    alerts_per_minute: int = Field(default=6, ge=1, le=600)
    """At most this many alerts a minute; the rest wait and go out as one."""

    stale_s: float = Field(default=60.0, ge=0, le=86400)
    """Items older than this when the engine learns of them (hooks spooled while no
    engine ran) open silently."""

    style_starting: str = Field(default="fg=colour244", pattern=_TMUX_STYLE)
    """tmux style of a starting session's border title."""

    style_busy: str = Field(default="fg=blue", pattern=_TMUX_STYLE)
    """tmux style of a busy session's border title and count."""

    style_waiting: str = Field(default="fg=green,bold", pattern=_TMUX_STYLE)
    """tmux style of a session waiting for you."""

    style_permission: str = Field(default="fg=red,bold", pattern=_TMUX_STYLE)
    """tmux style of a session asking permission."""

    style_limited: str = Field(default="fg=magenta,bold", pattern=_TMUX_STYLE)
    """tmux style of a session that hit a usage limit."""

    style_idle: str = Field(default="default", pattern=_TMUX_STYLE)
    """tmux style of an idle session."""

    style_exited: str = Field(default="fg=colour244", pattern=_TMUX_STYLE)
    """tmux style of an exited session."""

    style_lost: str = Field(default="fg=colour244", pattern=_TMUX_STYLE)
    """tmux style of a lost session (its pane is gone)."""

    @field_validator("osc")
    @classmethod
    def _known_osc(cls, value: int) -> int:
        # An int, not a Literal: `PODIUM_CUES__OSC=9` arrives as a string.
        if value not in (777, 9):
            raise ValueError("choose 777 or 9")
        return value


class UsageSettings(_Section):
    tick_interval: float = Field(default=60.0, ge=0.5, le=3600)
    """Seconds between two samples of every limit window and of each session's processes
    into the usage log (tables limit_series, process_samples); aligned to the clock."""

    fresh_minutes: float = Field(default=15.0, gt=0, le=7 * 24 * 60)
    """An official limit figure older than this many minutes gives way to an estimate
    from local tokens (labelled `estimate`)."""

    plan: Literal["pro", "max5", "max20"] = "pro"
    """Your Claude plan: picks a rough capacity for estimates until an official figure
    has calibrated it."""

    five_hour_capacity: int = Field(default=0, ge=0)
    """Weighted tokens (input + cache writes + output x5 + cache reads /10) of a full
    5-hour window, for estimates; 0 = from `plan`, until calibrated."""

    seven_day_capacity: int = Field(default=0, ge=0)
    """Weighted tokens of a full 7-day window, for estimates; 0 = 12 five-hour windows."""

    endpoint: bool = False
    """Ask Anthropic's usage endpoint (undocumented; network; sends your Claude OAuth token
    from `.credentials.json`) for official figures. Off unless you turn it on."""

    endpoint_url: str = "https://api.anthropic.com/api/oauth/usage"
    """The usage endpoint (https, or http to a loopback address only)."""

    @field_validator("endpoint_url")
    @classmethod
    def _safe_url(cls, value: str) -> str:
        # It is sent the user's OAuth token: never in clear text over a network.
        from collectors.limit_files import EndpointError, check_endpoint_url

        try:
            check_endpoint_url(value)
        except EndpointError as exc:
            raise ValueError(str(exc)) from None
        return value

    endpoint_interval: float = Field(default=600.0, ge=1, le=86400)
    """Seconds between two calls of the usage endpoint (it is rate-limited itself)."""


class StatuslineSettings(_Section):
    chain: str = "auto"
    """Statusline command whose output `podium statusline` prints after its usage line
    (it gets the same JSON on stdin). "auto" = the statusLine command of your own Claude
    settings; "" = none."""


_CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d$"


_DAY = "(mon|tue|wed|thu|fri|sat|sun)"
_DAYS = rf"^{_DAY}(-{_DAY})?(,{_DAY}(-{_DAY})?)*$"


class ReserveRuleSettings(_Section):
    """One rule of the reserve schedule; the first rule that matches the time wins."""

    five_hour_pct: float = Field(ge=0, le=100)
    """Share of the 5-hour window kept for you while this rule applies."""
    days: str | None = Field(default=None, pattern=_DAYS)
    """Weekdays it applies on, e.g. `mon-fri` or `sat,sun` (none: every day)."""
    start: str | None = Field(default=None, alias="from", pattern=_CLOCK)
    """Local time it starts, HH:MM (with `to`; none: all day)."""
    end: str | None = Field(default=None, alias="to", pattern=_CLOCK)
    """Local time it ends, HH:MM."""


def _default_reserve() -> list[ReserveRuleSettings]:
    return [
        ReserveRuleSettings.model_validate(
            {"days": "mon-fri", "from": "09:00", "to": "19:00", "five_hour_pct": 30}
        ),
        ReserveRuleSettings.model_validate({"five_hour_pct": 5}),
    ]


class FillSettings(_Section):
    reserve: list[ReserveRuleSettings] = Field(default_factory=_default_reserve)
    """The share of the 5-hour window background fill keeps for you, by time of day
    (`[[fill.reserve]]` tables with `days`, `from`, `to`, `five_hour_pct`; first match
    wins). Default: 30% on weekdays 09:00-19:00, 5% otherwise."""
    reserve_pct: float | None = Field(default=None, ge=0, le=100)
    """One share for all times instead of the schedule (`podium fill --reserve`
    overrides either for one fill)."""
    tz: str = ""
    """Time zone of the night window and reserve schedules ("" = the system's)."""
    night_start: str = Field(default="01:00", pattern=_CLOCK)
    """Start of the night window (`podium queue add --window night`), HH:MM."""
    night_end: str = Field(default="07:00", pattern=_CLOCK)
    """End of the night window, HH:MM."""
    max_concurrent: int = Field(default=1, ge=1, le=16)
    """Background runs at most at once."""
    interval: float = Field(default=30.0, ge=0.5, le=3600)
    """Seconds between two scheduler rounds (it also runs when a task or run changes)."""
    resume_prompt: str = "Continue where you left off."
    """What a run resumed after a usage limit or an interruption is told."""
    on_change_debounce: float = Field(default=2.0, ge=0, le=3600)
    """Seconds of quiet after a change before an `--on-change` task is queued."""
    keep_streams_days: int = Field(default=30, ge=1, le=3650)
    """Days a finished run's stream file is kept for `podium queue log`; older ones
    are deleted (the run's outcome, tokens and cost stay in the log)."""


# A comma-separated list of Textual key names ("tab,space", "ctrl+p", "question_mark"
# or "?"), without whitespace inside a name.
_KEY_LIST = r"^\s*[^\s,]+(\s*,\s*[^\s,]+)*\s*$"


class KeySettings(_Section):
    """Keys of the control tower: each a comma-separated list of Textual key names."""

    up: str = Field(default="up,k", pattern=_KEY_LIST)
    """Select the session above."""

    down: str = Field(default="down,j", pattern=_KEY_LIST)
    """Select the session below."""

    focus: str = Field(default="enter", pattern=_KEY_LIST)
    """Bring the selected session's pane into view (on stage, or focus its pane)."""

    next: str = Field(default="tab,space", pattern=_KEY_LIST)
    """Jump to the session that has waited longest for you."""

    new: str = Field(default="n", pattern=_KEY_LIST)
    """Open the new-session dialog."""

    send: str = Field(default="s", pattern=_KEY_LIST)
    """Type a line of text into the selected session."""

    kill: str = Field(default="x", pattern=_KEY_LIST)
    """Kill the selected session (asks first)."""

    rename: str = Field(default="r", pattern=_KEY_LIST)
    """Rename the selected session."""

    fill: str = Field(default="f", pattern=_KEY_LIST)
    """Switch background fill on or off."""

    usage: str = Field(default="u", pattern=_KEY_LIST)
    """Open the usage screen."""

    background: str = Field(default="b", pattern=_KEY_LIST)
    """Open the background-queue screen."""

    help: str = Field(default="question_mark", pattern=_KEY_LIST)
    """Show the keys and what the colours mean."""

    palette: str = Field(default="ctrl+p", pattern=_KEY_LIST)
    """Open the command palette."""

    quit: str = Field(default="q", pattern=_KEY_LIST)
    """Leave the control tower; the sessions go on running."""


class ModelPrice(_Section):
    """USD per million tokens for one model pattern (see `[prices]`)."""

    input: float = Field(ge=0)
    """Input tokens."""

    output: float = Field(ge=0)
    """Output tokens."""

    cache_write_5m: float | None = Field(default=None, ge=0)
    """Cache writes with a 5-minute lifetime; default 1.25x input."""

    cache_write_1h: float | None = Field(default=None, ge=0)
    """Cache writes with a 1-hour lifetime; default 2x input."""

    cache_read: float | None = Field(default=None, ge=0)
    """Cache reads; default 0.1x input."""


class PriceSettings(_Section):
    models: dict[str, ModelPrice] = {}
    """Prices that come before podium's built-in table, by model-name pattern (shell-style,
    e.g. `[prices.models."claude-opus-4-5*"]` with `input = 5` and `output = 25`, in USD per
    million tokens). Used for the usage log's `cost_usd` estimates; stored costs are
    recomputed when a price changes."""


class Settings(_Section):
    """Everything configurable, with its default."""

    tmux: TmuxSettings = TmuxSettings()
    agents: AgentSettings = AgentSettings()
    engine: EngineSettings = EngineSettings()
    ui: UiSettings = UiSettings()
    usage: UsageSettings = UsageSettings()
    statusline: StatuslineSettings = StatuslineSettings()
    profiles: dict[AgentName, ProfileSettings] = Field(default_factory=dict)
    """Screen profiles per agent (`[profiles.<agent>]`), added to the built-in ones."""
    cues: CuesSettings = CuesSettings()
    keys: KeySettings = KeySettings()
    fill: FillSettings = FillSettings()

    prices: PriceSettings = PriceSettings()


class SettingsError(Exception):
    """A config file that cannot be used; the message says where and why."""


# Documented shortcuts: env var -> (section, key).
ENV_SHORTCUTS = {
    "PODIUM_TMUX_SOCKET": ("tmux", "socket"),
    "PODIUM_CLAUDE_BIN": ("agents", "claude_bin"),
}


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if name in ENV_SHORTCUTS:
            section, key = ENV_SHORTCUTS[name]
        elif name.startswith("PODIUM_") and "__" in name:
            section, _, key = name[len("PODIUM_") :].lower().partition("__")
        else:
            continue
        out.setdefault(section, {})[key] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    return f"key '{key}': {error['msg']}"


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
        Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(f"config error in {file}: {_describe(exc.errors()[0])}") from None
    try:
        return Settings.model_validate(_merge(data, _env_overrides(environ)))
    except ValidationError as exc:
        raise SettingsError(
            f"config error in the environment: {_describe(exc.errors()[0])} "
            "(from a PODIUM_* variable)"
        ) from None


def documented_keys() -> list[tuple[str, str, str]]:
    """(key, default, docstring) for every setting, for help output and the docs."""
    rows: list[tuple[str, str, str]] = []
    for section, field in Settings.model_fields.items():
        model, prefix = field.annotation, section
        if get_origin(model) is dict:  # a table per agent: [profiles.<agent>]
            model, prefix = get_args(model)[1], f"{section}.<agent>"
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key, sub in model.model_fields.items():
            rows.append((f"{prefix}.{key}", _default(sub), sub.description or ""))
    for key, sub in ProfileRule.model_fields.items():
        rows.append((f"profiles.<agent>.rules[].{key}", _default(sub), sub.description or ""))
    return rows


def _default(field: Any) -> str:
    return "(required)" if field.is_required() else repr(field.default)
