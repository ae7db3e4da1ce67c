"""Where podium keeps things.

Stdlib only (plus platformdirs, imported lazily): the hook command imports this
module inside Claude Code's loop, so it must stay cheap to import.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "podium"


def _platform_dirs():  # pragma: no cover - trivial
    import platformdirs

    return platformdirs.PlatformDirs(APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The data dir: `PODIUM_DATA_DIR`, else the platform's user data dir."""
    env = os.environ.get("PODIUM_DATA_DIR")
    if env:
        return Path(env).expanduser().absolute()
    return Path(_platform_dirs().user_data_dir)


def config_file() -> Path:
    """The config file: `PODIUM_CONFIG`, else `<user config dir>/config.toml`."""
    env = os.environ.get("PODIUM_CONFIG")
    if env:
        return Path(env).expanduser().absolute()
    return Path(_platform_dirs().user_config_dir) / "config.toml"


def config_dir() -> Path:
    return config_file().parent


def runtime_dir() -> Path:
    """A private directory for sockets: `$XDG_RUNTIME_DIR/podium`, else `/tmp/podium-<uid>`."""
    env = os.environ.get("PODIUM_RUNTIME_DIR")
    if env:
        return Path(env).expanduser().absolute()
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir() and os.access(xdg, os.W_OK):
        return Path(xdg) / APP_NAME
    return Path(f"/tmp/{APP_NAME}-{os.getuid()}")


def tmux_socket() -> str:
    """The tmux socket: a name for `tmux -L` or, when it contains '/', a path for `tmux -S`."""
    return os.environ.get("PODIUM_TMUX_SOCKET") or APP_NAME


def claude_config_dirs() -> list[Path]:
    """Claude Code's config dirs: `CLAUDE_CONFIG_DIR` (comma-separated allowed), else ~/.claude."""
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    if env:
        return [Path(p).expanduser().absolute() for p in env.split(",") if p.strip()]
    return [Path.home() / ".claude"]


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make sure only the user can enter it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o700)
    return path


@dataclass(frozen=True)
class Paths:
    """Every file podium uses for one data dir, derived in one place."""

    data: Path
    runtime: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(data=data_dir(), runtime=runtime_dir())

    @property
    def db(self) -> Path:
        return self.data / "podium.duckdb"

    @property
    def spool(self) -> Path:
        return self.data / "spool"

    @property
    def hook_errors(self) -> Path:
        return self.data / "spool" / "errors.log"

    @property
    def lock(self) -> Path:
        return self.data / "engine.lock"

    @property
    def engine_log(self) -> Path:
        return self.data / "engine.log"

    @property
    def agent_settings(self) -> Path:
        """Per-session `--settings` files podium writes for Claude Code."""
        return self.data / "agent-settings"

    @property
    def sim(self) -> Path:
        """State of the stand-in agent's simulated account."""
        return self.data / "sim"

    @property
    def socket(self) -> Path:
        # One engine per data dir: the socket name carries a digest of the data
        # dir so that a demo, tests and the user's own podium never meet.
        digest = hashlib.sha256(str(self.data).encode()).hexdigest()[:12]
        return self.runtime / f"engine-{digest}.sock"
