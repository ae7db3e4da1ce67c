"""Where podium keeps things.

Stdlib only (plus platformdirs, imported lazily): the hook command imports this
module inside Claude Code's loop, so it must stay cheap to import.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "podium"


def _platform_dirs():  # pragma: no cover - trivial
    import platformdirs  # only when no variable names the dirs: the hook commands start fast

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


# Where the stand-in agent (`sessions.sim`) keeps its Claude-format config and
# transcripts when told: tests and the demo point it at the Claude config dir
# their engine reads.
SIM_CLAUDE_ENV = "PODIUM_SIM_CLAUDE_CONFIG_DIR"
SIM_CLAUDE_DIR = "sim-claude"


def sim_claude_dir(env: Mapping[str, str] | None = None) -> Path:
    """The stand-in agent's Claude config dir: `PODIUM_SIM_CLAUDE_CONFIG_DIR`, else
    `<data dir>/sim-claude` (the data dir from `env`'s `PODIUM_DATA_DIR`, as a sim sees it).

    Never `CLAUDE_CONFIG_DIR` nor `~/.claude`: those are the person's real Claude
    Code's, and made-up transcripts there would count as real usage for every tool
    that reads them (podium's ingest, ccusage)."""
    env = os.environ if env is None else env
    told = env.get(SIM_CLAUDE_ENV, "").strip()
    if told:
        return Path(told).expanduser().absolute()
    data = env.get("PODIUM_DATA_DIR")
    base = Path(data).expanduser().absolute() if data else data_dir()
    return base / SIM_CLAUDE_DIR


class UnsafePath(Exception):
    """A directory or socket podium must not use: someone else's, a symlink, or open to
    others. The message is one line that names it and says how to fix it."""


# The environment variable that moves each kind of directory, for the error's advice.
_MOVED_BY = {"runtime dir": "PODIUM_RUNTIME_DIR", "data dir": "PODIUM_DATA_DIR"}


def _fix(what: str) -> str:
    env = _MOVED_BY.get(what)
    return f"remove it or set {env} to a private directory" if env else "remove it"


def check_owned(path: Path, what: str, *, kind: int = stat.S_IFDIR) -> os.stat_result | None:
    """`lstat` of `path` when it is ours: of file type `kind` (a symlink is not followed,
    so it is refused), owned by this user. None when it does not exist; `UnsafePath`
    otherwise. `/tmp/podium-<uid>` is a predictable name: someone may have made it first."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    uid = os.geteuid()
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"{what} {path} is a symlink: {_fix(what)}")
    if stat.S_IFMT(st.st_mode) != kind:
        raise UnsafePath(f"{what} {path} is not a {_KIND_NAMES.get(kind, 'file')}: {_fix(what)}")
    if st.st_uid != uid:
        raise UnsafePath(
            f"{what} {path} is owned by uid {st.st_uid}, not you ({uid}): {_fix(what)}"
        )
    return st


_KIND_NAMES = {stat.S_IFDIR: "directory", stat.S_IFSOCK: "socket", stat.S_IFREG: "file"}


def ensure_private_dir(path: Path, what: str = "directory") -> Path:
    """Create `path` (and parents) and make sure only the user can enter it.

    An existing `path` must be a real directory of this user (`check_owned`); only then
    are its group and other permissions taken away. Someone else's directory, or a
    symlink, is refused with `UnsafePath`, never chmodded or used."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    st = check_owned(path, what)
    if st is None:  # removed between the two calls: someone plays with it
        raise UnsafePath(f"{what} {path} vanished while podium made it: {_fix(what)}")
    if stat.S_IMODE(st.st_mode) & 0o077:
        # O_NOFOLLOW and O_DIRECTORY: the chmod hits the directory just checked.
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            if os.fstat(fd).st_ino != st.st_ino:
                raise UnsafePath(f"{what} {path} changed while podium checked it: {_fix(what)}")
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
    return path


class Paths:
    """Every file podium uses for one data dir, derived in one place. Immutable, equal
    by value and hashable, as a frozen dataclass; written out because every command
    builds one, and `dataclasses` loads `inspect` (~6 ms of a command's start-up)."""

    __slots__ = ("data", "runtime")
    data: Path
    runtime: Path

    def __init__(self, data: Path, runtime: Path) -> None:
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "runtime", runtime)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: Paths are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: Paths are immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Paths)
        return (self.data, self.runtime) == (other.data, other.runtime)

    def __hash__(self) -> int:
        return hash((self.data, self.runtime))

    def __repr__(self) -> str:
        return f"Paths(data={self.data!r}, runtime={self.runtime!r})"

    def __reduce__(self) -> tuple[type[Paths], tuple[Path, Path]]:
        # Pickled (to a worker process) through __init__: __setattr__ refuses.
        return (Paths, (self.data, self.runtime))

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

    def private_runtime(self) -> Path:
        """The runtime dir, created 0700 or checked to be this user's (`UnsafePath`)."""
        return ensure_private_dir(self.runtime, "runtime dir")

    def private_data(self) -> Path:
        """The data dir, created 0700 or checked to be this user's (`UnsafePath`)."""
        return ensure_private_dir(self.data, "data dir")

    def check_socket(self) -> bool:
        """Whether the engine's socket is there to connect to, after checking that it and
        the runtime dir are this user's alone (`UnsafePath` if not): a socket someone else
        placed would be told every request, the environment of `podium new` included."""
        st = check_owned(self.runtime, "runtime dir")
        if st is None:
            return False
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise UnsafePath(
                f"runtime dir {self.runtime} has mode {mode:o}, open to others: "
                f"run `chmod 700 {self.runtime}`, or {_fix('runtime dir')}"
            )
        return check_owned(self.socket, "engine socket", kind=stat.S_IFSOCK) is not None

    @property
    def socket(self) -> Path:
        # One engine per data dir: the socket name carries a digest of the data
        # dir so that a demo, tests and the user's own podium never meet.
        digest = hashlib.sha256(str(self.data).encode()).hexdigest()[:12]
        return self.runtime / f"engine-{digest}.sock"
