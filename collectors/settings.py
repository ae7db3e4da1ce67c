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
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from collectors import paths

AgentName = Literal["claude", "sim", "codex", "aider", "shell"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class TmuxSettings(_Section):
    socket: str = "podium"
    """Private tmux server: a socket name for `tmux -L`, or a path (with '/') for `tmux -S`."""

    session_name: str = "podium"
    """Name of the tmux session that holds the control tower and the agent panes."""


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


class EngineSettings(_Section):
    sweep_interval: float = Field(default=1.0, gt=0.05, le=60)
    """Seconds between two tmux sweeps (one `list-panes -a`) while something moves."""

    start_timeout: float = Field(default=15.0, gt=0, le=300)
    """Seconds a command waits for an engine it started on demand to answer."""


class UiSettings(_Section):
    stage_size: int = Field(default=3, ge=1, le=9)
    """How many agent panes stand side by side next to the control tower."""

    theme: str = "podium-dark"
    """Textual theme of the control tower (built-in, podium's, or a user theme)."""


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
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key, sub in model.model_fields.items():
            rows.append((f"{section}.{key}", repr(sub.default), sub.description or ""))
    return rows
