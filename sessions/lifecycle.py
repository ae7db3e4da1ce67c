"""One engine per data dir: the lock, the pid, and starting an engine on demand.
The engine takes the lock; clients read it and start an engine.

The lock is an exclusive `flock` on `<data>/engine.lock` with the holder's pid
written inside. The kernel drops it when the process dies, however it dies,
so a killed engine never leaves podium claiming to be "already running".
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from collectors.paths import Paths


class AlreadyRunning(Exception):
    def __init__(self, pid: int | None) -> None:
        super().__init__(f"engine already running (pid {pid if pid else '?'})")
        self.pid = pid


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def acquire_lock(paths: Paths) -> int:
    """Take the engine lock for this process; returns the fd to keep open."""
    paths.private_data()
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AlreadyRunning(_read_pid(paths.lock)) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    os.fsync(fd)
    return fd


def lock_holder(paths: Paths) -> int | None:
    """The pid of the running engine of this data dir, or None when none runs."""
    try:
        fd = os.open(paths.lock, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(paths.lock) or -1
    finally:
        os.close(fd)
    return None


def spawn_engine(paths: Paths) -> subprocess.Popen:
    """Start `python -m sessions.engine` detached from this terminal, logging to a file.

    `UnsafePath` when the data or runtime dir is not this user's alone."""
    paths.private_data()
    paths.private_runtime()
    # 0600, also when an older podium made it with the caller's umask: it names
    # projects and sessions.
    fd = os.open(paths.engine_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    log = os.fdopen(fd, "ab")
    env = dict(os.environ)
    env["PODIUM_DATA_DIR"] = str(paths.data)
    env["PODIUM_RUNTIME_DIR"] = str(paths.runtime)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "sessions.engine"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    finally:
        log.close()


def last_log_line(paths: Paths) -> str:
    try:
        lines = paths.engine_log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""
