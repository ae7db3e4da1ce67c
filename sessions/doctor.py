"""`podium doctor`: what podium needs, what it found, and what to do about each gap."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from collectors import paths as podium_paths
from collectors.paths import Paths
from collectors.settings import Settings, SettingsError, load_settings
from collectors.store import RESET_COMMAND, StoreError, check_store, move_aside, open_store
from sessions.agents import resolve_bin
from sessions.client import EngineUnavailable, try_connect
from sessions.lifecycle import AlreadyRunning, acquire_lock, lock_holder
from sessions.protocol import ApiError
from sessions.tmux import Tmux, TmuxError, tmux_path, tmux_version


@dataclass
class Check:
    name: str
    status: str  # ok | warn | error
    detail: str
    fix: str = ""


def _tmux_check() -> Check:
    path = tmux_path()
    if path is None:
        return Check(
            "tmux",
            "error",
            "tmux is not installed",
            "install it: `sudo apt-get install tmux` (Debian/Ubuntu), `brew install tmux` (macOS)",
        )
    version = tmux_version() or "?"
    try:
        major = float("".join(c for c in version.split("-")[0] if c.isdigit() or c == ".") or 0)
    except ValueError:
        major = 0
    if major and major < 3.0:
        return Check(
            "tmux", "error", f"tmux {version} at {path} is too old", "install tmux 3.0 or newer"
        )
    return Check("tmux", "ok", f"tmux {version} at {path}")


def _claude_check(cfg: Settings) -> Check:
    found = resolve_bin(cfg.agents.claude_bin)
    if found is None:
        return Check(
            "claude",
            "warn",
            f"Claude Code CLI not found ({cfg.agents.claude_bin!r})",
            "install it (`npm install -g @anthropic-ai/claude-code`) or set agents.claude_bin; "
            "`podium demo` works without it",
        )
    try:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=20)
        version = out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown version"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("claude", "warn", f"{found} did not report a version: {exc}")
    return Check("claude", "ok", f"{version} at {found}")


def _dir_check(name: str, path: Path, *, private: bool, must_exist: bool = False) -> Check:
    if not path.exists():
        if must_exist:
            return Check(name, "warn", f"{path} does not exist")
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not os.access(parent, os.W_OK):
            return Check(
                name,
                "error",
                f"{path} cannot be created: {parent} is not writable",
                f"make {parent} writable, or point PODIUM_DATA_DIR elsewhere",
            )
        return Check(name, "ok", f"{path} (created on first use)")
    if private:
        try:  # another user's, or a symlink: podium refuses it (lstat, not followed)
            podium_paths.check_owned(path, name)
        except podium_paths.UnsafePath as exc:
            return Check(name, "error", str(exc), f"remove {path}")
    if not os.access(path, os.W_OK):
        return Check(name, "error", f"{path} is not writable", f"chown/chmod {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if private and mode & 0o077:
        return Check(
            name, "warn", f"{path} is readable by others (mode {mode:o})", f"chmod 700 {path}"
        )
    return Check(name, "ok", str(path))


def run_checks() -> list[Check]:
    checks: list[Check] = [_tmux_check()]
    config_file = podium_paths.config_file()
    try:
        cfg = load_settings()
        detail = f"{config_file}" if config_file.exists() else f"{config_file} (absent: defaults)"
        checks.append(Check("config", "ok", detail))
    except SettingsError as exc:
        cfg = Settings()
        checks.append(Check("config", "error", str(exc), f"fix or remove the key in {config_file}"))
    checks.append(_claude_check(cfg))
    paths = Paths.from_env()
    checks.append(_dir_check("data dir", paths.data, private=True))
    checks.append(_dir_check("runtime dir", paths.runtime, private=True))
    for claude_dir in podium_paths.claude_config_dirs():
        checks.append(_dir_check("claude dir", claude_dir, private=False, must_exist=True))
    if paths.socket.exists():
        mode = stat.S_IMODE(paths.socket.stat().st_mode)
        if mode & 0o077:
            checks.append(
                Check(
                    "engine socket",
                    "error",
                    f"{paths.socket} has mode {mode:o}",
                    f"stop the engine and remove {paths.socket}",
                )
            )
    pid = lock_holder(paths)
    if pid is None:
        checks.append(Check("engine", "ok", "not running (commands start it on demand)"))
    else:
        checks.append(Check("engine", "ok", f"running (pid {pid}), socket {paths.socket}"))
    checks.append(_database_check(paths, pid))
    checks.append(
        Check("tmux socket", "ok", f"{cfg.tmux.socket!r}, session {cfg.tmux.session_name!r}")
    )
    checks.append(_tmux_server_check(cfg, paths, pid))
    return checks


def _engine_status(paths: Paths) -> dict[str, Any] | None:
    """The running engine's `status`, or None when it does not answer (never starts one)."""
    try:
        client = try_connect(paths, timeout=5)
        if client is None:
            return None
        with client:
            status = client.call("status")
    except (EngineUnavailable, ApiError, OSError):
        return None
    return status if isinstance(status, dict) else None


def _tmux_server_check(cfg: Settings, paths: Paths, engine_pid: int | None) -> Check:
    """Whether podium's tmux server runs, and whether one exited under the engine (its
    `status` says: the engine saw it go). Without an engine tmux itself is asked;
    nothing here starts a server."""
    socket = cfg.tmux.socket
    starts = "`podium up` or `podium new` starts it"
    status = _engine_status(paths) if engine_pid is not None else None
    if status is not None:
        gone = status.get("tmux_exit")
        alive, pid = status.get("tmux_alive"), status.get("tmux_pid")
        if gone and not alive:
            return Check(
                "tmux server",
                "warn",
                f"podium's tmux server (socket {socket!r}) {_exit_text(gone)}; none runs now",
                f"{starts} again; if it keeps exiting, look at the tmux config it reads "
                "([tmux] config, source_user_conf)",
            )
        if alive:
            before = f"; the one before {_exit_text(gone)}" if gone else ""
            return Check("tmux server", "ok", f"running (pid {pid or '?'}){before}")
        return Check("tmux server", "ok", f"not running ({starts})")
    try:
        alive = Tmux(socket).alive()
    except TmuxError as exc:  # tmux missing: its own check says so
        return Check("tmux server", "warn", f"cannot ask tmux: {exc}")
    return Check("tmux server", "ok", "running" if alive else f"not running ({starts})")


def _exit_text(gone: dict[str, Any]) -> str:
    at = datetime.fromisoformat(str(gone["at"])).astimezone()
    lost = gone.get("sessions") or []
    text = f"exited at {at:%H:%M:%S} (pid {gone.get('pid') or '?'})"
    return f"{text}, {len(lost)} session(s) lost: {', '.join(lost)}" if lost else text


def _database_check(paths: Paths, engine_pid: int | None) -> Check:
    """Whether DuckDB can read the database. A running engine has it open (and only
    one process may): then it is readable, and is not opened here."""
    if engine_pid is not None:
        return Check("database", "ok", f"{paths.db} (open in the engine)")
    if not paths.db.exists() and not paths.db.is_symlink():
        return Check("database", "ok", f"{paths.db} (created on first use)")
    problem = check_store(paths.db)
    if problem is not None:
        return Check(
            "database",
            "error",
            problem,
            f"`{RESET_COMMAND}` renames it (and its .wal) to {paths.db.name}.broken-TIMESTAMP "
            "and starts a fresh log",
        )
    return Check("database", "ok", str(paths.db))


class ResetRefused(Exception):
    """`podium db reset` will not move the database: the message says why."""


def reset_database(paths: Paths, force: bool = False) -> list[Path]:
    """Move a broken database (and its write-ahead log) aside and create a fresh one;
    returns where the old files went. Refuses while an engine runs (it has the file
    open, so the file is readable) and, without `force`, when the file opens fine."""
    try:
        fd = acquire_lock(paths)  # no engine starts while the files move
    except AlreadyRunning as exc:
        raise ResetRefused(
            f"{exc}, and it has {paths.db} open: the database is readable. "
            "Stop the engine (`podium engine stop`) first to reset it anyway."
        ) from None
    try:
        if not paths.db.exists() and not paths.db.is_symlink():
            raise ResetRefused(f"{paths.db} does not exist: nothing to reset")
        problem = check_store(paths.db)
        if problem is None and not force:
            raise ResetRefused(
                f"{paths.db} opens fine: nothing to reset (--force moves it aside anyway)"
            )
        try:
            moved = move_aside(paths.db)
            open_store(paths.db).close()  # the fresh log, schema and all
        except (OSError, StoreError) as exc:
            raise ResetRefused(f"cannot reset {paths.db}: {exc}") from None
        return moved
    finally:
        os.close(fd)
