"""The tmux backend: podium's private tmux server, addressed by ids, never names.

Every tmux command podium runs, in the engine, the tower and the key commands,
goes through `run_tmux`: one argv, no shell, a timeout, output split the same
way everywhere. Every call that starts a program passes it as argv: tmux
executes a multi-argument command directly, without a shell. One `list-panes -a`
call gives a whole sweep.

Data (a session's name, a directory, typed text) reaches tmux only through
`quote`: many tmux arguments are format-expanded, where `#(cmd)` runs a shell
command. The module imports only the stdlib, so the key commands
(sessions/cue_key.py) and the tower (inside Textual) use it as the engine does.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from sessions.launch import person_umask
from sessions.retry import wait_for

# Unit separator: cannot occur in ids, numbers or commands, and tmux passes it through.
_SEP = "\x1f"
_DEAD_LINE = re.compile(r"Pane is dead \((?:status (\d+)|signal (\d+))")
_PANE_FIELDS = (
    "session_id",
    "session_name",
    "window_id",
    "window_name",
    "window_index",
    "pane_id",
    "pane_pid",
    "pane_dead",
    "pane_dead_status",
    "pane_current_command",
    "pane_active",
    "window_active",
    "session_attached",
    "window_activity",
    "pane_title",
    "session_activity",
    "@podium_session",
    # Geometry and roles, for the stage (sessions/stage.py).
    "pane_index",
    "pane_left",
    "pane_width",
    "window_width",
    "window_height",
    "@podium_role",
    "window_zoomed_flag",
    # The server's own pid: a server that exited and was replaced between two
    # sweeps shows up as a new pid, not as nothing.
    "pid",
)
# The pane option that names the podium session a pane belongs to: pane ids are
# reused by a new tmux server, the tag is not.
SESSION_TAG = "@podium_session"
# What podium's server is told as it starts, before any client can attach: tmux
# asks a terminal to report its focus only when the client attaches with
# `focus-events` on (tmux 3.3a: turning it on later does not reach attached
# clients), and the alerts need to know whether the person's terminal has it.
SERVER_START = ("set-option", "-g", "focus-events", "on", ";")


# How long `send_text` waits for typed text to show before pressing Enter.
ECHO_TIMEOUT = 1.5
# The longest text `send_text` types with one `send-keys -l` (UTF-8 bytes): tmux
# refuses a command of more than about 16 KiB ("command too long", tmux 3.3a).
SEND_KEYS_MAX = 8192
# What `typeable` takes out of text sent to a pane: C0 controls but tab and
# newline, DEL and C1 controls. ESC among them: no escape sequence survives.
# A run of `#`, and whether a style's `[` follows it (see `quote`).
_HASHES = re.compile(r"#+(\[)?")
Formats = Literal["expanded", "drawn", "plain"]
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class TmuxError(Exception):
    """A tmux command failed; the message says which and why."""


class TmuxMissing(TmuxError):
    """tmux is not installed."""


class TmuxServerGone(TmuxError):
    """No server runs on podium's socket (never started, or killed)."""


class TmuxServerExited(TmuxServerGone):
    """The server exited while it ran podium's command (it crashed, or was killed)."""


class PaneGone(TmuxError):
    """The pane a command was aimed at no longer exists."""


@dataclass(frozen=True)
class PaneInfo:
    """One pane, as one `list-panes -a` line reports it."""

    session_id: str
    session_name: str
    window_id: str
    window_name: str
    window_index: int
    pane_id: str
    pid: int | None
    dead: bool
    dead_status: int | None
    current_command: str
    active: bool
    window_active: bool
    session_attached: bool
    window_activity: int
    title: str
    # Last key a client typed into this tmux session (epoch s).
    session_activity: int = 0
    podium_session: str = ""
    pane_index: int = 0
    pane_left: int = 0
    pane_width: int = 0
    window_width: int = 0
    window_height: int = 0
    # "tower" for the control tower's pane, "stage" for the other panes of the
    # stage window (a pane inherits its window's option), else empty.
    role: str = ""
    # One pane of the window fills it (`resize-pane -Z`); the others keep their cells.
    window_zoomed: bool = False
    # The tmux server's pid (the same on every line of one listing).
    server_pid: int | None = None

    @classmethod
    def parse(cls, line: str) -> PaneInfo:
        f = dict(zip(_PANE_FIELDS, line.split(_SEP), strict=False))

        def num(key: str) -> int | None:
            value = f.get(key, "")
            return int(value) if value.lstrip("-").isdigit() else None

        return cls(
            session_id=f.get("session_id", ""),
            session_name=f.get("session_name", ""),
            window_id=f.get("window_id", ""),
            window_name=f.get("window_name", ""),
            window_index=num("window_index") or 0,
            pane_id=f.get("pane_id", ""),
            pid=num("pane_pid"),
            dead=f.get("pane_dead") == "1",
            dead_status=num("pane_dead_status"),
            current_command=f.get("pane_current_command", ""),
            active=f.get("pane_active") == "1",
            window_active=f.get("window_active") == "1",
            session_attached=(num("session_attached") or 0) > 0,
            window_activity=num("window_activity") or 0,
            title=f.get("pane_title", ""),
            session_activity=num("session_activity") or 0,
            podium_session=f.get("@podium_session", ""),
            pane_index=num("pane_index") or 0,
            pane_left=num("pane_left") or 0,
            pane_width=num("pane_width") or 0,
            window_width=num("window_width") or 0,
            window_height=num("window_height") or 0,
            role=f.get("@podium_role", ""),
            window_zoomed=f.get("window_zoomed_flag") == "1",
            server_pid=num("pid"),
        )

    @property
    def focused(self) -> bool:
        """Shown to a person: the active pane of the active window of an attached session."""
        return self.active and self.window_active and self.session_attached


@dataclass(frozen=True)
class Spawned:
    session_id: str
    window_id: str
    pane_id: str
    pid: int | None


def quote(value: str, *, formats: Formats = "expanded") -> str:
    """`value` (data: a name, a directory, a title, a message) as one tmux argument
    that tmux takes as it is. Every value that comes from a person goes through here.

    `formats` says what tmux does with the argument (checked on tmux 3.3a):

    - "expanded": it is format-expanded, where `#(cmd)` runs a shell command and
      `#{…}` is replaced; `##` stands for `#`, and a run of `#` before `[` (a
      style, for whoever draws the text later) is left as it is. So every run of
      `#` is doubled unless a `[` follows. Expanded are `new-session -s/-n/-c`,
      `new-window -n/-c`, `split-window -c`, `respawn-pane -c`, `rename-window`,
      `rename-session`, `select-pane -T` and `run-shell`'s command.
    - "drawn": it is drawn in a border, status or message line, which reads
      `#[…]` as a style and `##` as `#`: every `#` is doubled. A user option
      shown through `#{@option}` in `pane-border-format` is drawn but not
      expanded again; `display-message`'s text is expanded, which keeps `##[`,
      then drawn: both take "drawn".
    - "plain": taken as it is: `send-keys -l`, `set-environment` values, `-t`
      targets, `break-pane -n` (podium names windows with `rename-window`:
      versions differ there) and option values that are not drawn.

    Always: tmux's command parser ends a command at an argument that *ends* with
    `;` (and eats the `;`); a trailing `\\;` stands for `;`. A value that may
    start with `-` goes after `--` (or after another positional argument).
    """
    if formats == "expanded":
        value = _HASHES.sub(lambda m: m[0] if m[1] else m[0] * 2, value)
    elif formats == "drawn":
        value = value.replace("#", "##")
    return value[:-1] + "\\;" if value.endswith(";") else value


def typeable(text: str) -> str:
    """`text` as `podium send` types it: line ends made `\\n`, and no control
    character but tab and newline.

    A pane's program reads what tmux types as if a person pressed keys: an ESC
    starts a key sequence, and `ESC[201~` ends a bracketed paste, after which
    the rest of a paste would be typed keys (Enter included) rather than text.
    Bracketed-paste markers go whole, other controls one by one.
    """
    text = text.replace("\x1b[200~", "").replace("\x1b[201~", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


# Commands that only prepare the one that matters in a command list.
_SETUP_COMMANDS = frozenset({"start-server", "set-option", "display-message"})


def _main_command(args: tuple[str, ...]) -> str:
    """The command of a `;`-separated list an error is about: the last one that is not
    setup (`set-option … ; new-window …` is about new-window)."""
    names = [args[0]] if args else ["?"]
    names += [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == ";"]
    return next((n for n in reversed(names) if n not in _SETUP_COMMANDS), names[0])


def tmux_path() -> str | None:
    return shutil.which("tmux")


def socket_args(socket: str) -> list[str]:
    """`-L name`, or `-S path` for a socket given as a path (as podium's config allows)."""
    return ["-S", socket] if "/" in socket else ["-L", socket]


_NO_TMUX = "tmux is not installed; install it (e.g. `apt-get install tmux`)"
# A tmux command answers in milliseconds; one that does not (a server wedged by a
# program in one of its panes) must not hold the engine's worker for ever.
TMUX_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class TmuxResult:
    """What one tmux command printed, as lines, and its exit status."""

    stdout: list[str]
    stderr: list[str]
    returncode: int


def run_tmux(
    sockets: list[str],
    *args: str,
    input: str | None = None,
    timeout: float = TMUX_TIMEOUT_S,
    umask: int = -1,
) -> TmuxResult:
    """Run `tmux SOCKETS ARGS` (argv, no shell); raise `TmuxMissing` or `TmuxError`
    (a time-out) only. Output is split at `\n` alone: a screen may hold U+2028 or
    other characters `str.splitlines` would cut at. `umask` is the new process's
    (a server started by this command keeps it)."""
    path = tmux_path()
    if path is None:
        raise TmuxMissing(_NO_TMUX)
    try:
        proc = subprocess.run(
            [path, *sockets, *args],
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="backslashreplace",
            timeout=timeout,
            check=False,
            umask=umask,
        )
    except FileNotFoundError:
        raise TmuxMissing(
            "tmux is not installed; install it (e.g. `apt-get install tmux`)"
        ) from None
    except subprocess.TimeoutExpired:
        raise TmuxError(f"tmux {args[0]}: no answer within {timeout:g} s") from None
    stdout = proc.stdout.split("\n")
    while stdout and stdout[-1] == "":
        stdout.pop()
    stderr = [line for line in proc.stderr.split("\n") if line]
    return TmuxResult(stdout, stderr, proc.returncode)


def tmux_version() -> str | None:
    """`tmux -V` without the 'tmux ' prefix, or None when tmux is missing."""
    path = tmux_path()
    if not path:
        return None
    out = subprocess.run([path, "-V"], capture_output=True, text=True, check=False)
    return out.stdout.strip().removeprefix("tmux ") or None


class Tmux:
    """podium's tmux server on one socket."""

    def __init__(self, socket: str, config: str = "", *, source_user_conf: bool = False) -> None:
        """`config`: the file a server this object starts reads (`-f`); empty, none,
        so that the person's `~/.tmux.conf` never shapes podium's private server.
        `source_user_conf` (and no `config`): no `-f` at all, so tmux reads what the
        person's own tmux reads (`/etc/tmux.conf`, `~/.tmux.conf`, …)."""
        self.socket = socket
        self._socket_args = socket_args(socket)
        if config:
            self._config_args = ["-f", os.path.expanduser(config)]
        elif source_user_conf:
            self._config_args = []
        else:
            self._config_args = ["-f", os.devnull]

    # -- running commands -------------------------------------------------
    def run(self, *args: str, input: str | None = None) -> list[str]:
        """Run one tmux command; return stdout lines or raise a `TmuxError`."""
        # A server started here keeps the umask it starts with, and so does every
        # pane the person opens in it by hand: the person's, not the engine's 077.
        starts_server = "new-session" in args or "start-server" in args
        umask = person_umask() if starts_server else -1
        # `-f` matters only to a server this command starts; a running one ignores it.
        sockets = [*self._socket_args, *self._config_args] if starts_server else self._socket_args
        result = run_tmux(sockets, *args, input=input, umask=umask)
        stdout, stderr = result.stdout, result.stderr
        if result.returncode != 0 or (stderr and not stdout and args[0] not in ("has-session",)):
            self._raise(args, stderr)
        return stdout

    def _raise(self, args: tuple[str, ...], stderr: list[str]) -> None:
        message = "; ".join(stderr) or "failed"
        if "server exited" in message or "lost server" in message:
            # The server died under this command (a crash, a kill): said as such, not
            # as the command's own failure, so that nobody takes it for a bad argument.
            raise TmuxServerExited(
                f"podium's tmux server (socket {self.socket!r}) exited during "
                f"{_main_command(args)}: {message}"
            )
        if "no server running" in message or "error connecting to" in message:
            raise TmuxServerGone(f"no tmux server on socket {self.socket!r}")
        if "can't find pane" in message or "can't find window" in message:
            raise PaneGone(message)
        raise TmuxError(f"tmux {_main_command(args)}: {message}")

    # -- queries ----------------------------------------------------------
    def alive(self) -> bool:
        try:
            self.run("list-sessions", "-F", "#{session_id}")
        except TmuxServerGone:
            return False
        return True

    def has_session(self, name: str) -> bool:
        try:
            self.run("has-session", "-t", f"={name}")
        except TmuxServerGone:
            return False
        except TmuxError:
            return False
        return True

    def list_panes(self) -> list[PaneInfo]:
        """Every pane of the server in one call; empty when no server runs."""
        fmt = _SEP.join(f"#{{{name}}}" for name in _PANE_FIELDS)
        try:
            lines = self.run("list-panes", "-a", "-F", fmt)
        except TmuxServerGone:
            return []
        return [PaneInfo.parse(line) for line in lines if line]

    def dead_status_from_screen(self, pane_id: str) -> int | None:
        """The exit status tmux wrote on a dead pane ("Pane is dead (status N, …)").

        `#{pane_dead_status}` is sometimes empty although tmux knows the status
        (seen with tmux 3.3a under load); the line it prints is the fallback.
        """
        try:
            screen = self.capture(pane_id)
        except TmuxError:
            return None
        match = _DEAD_LINE.search(screen)
        if match is None:
            return None
        if match.group(1) is not None:
            return int(match.group(1))
        return 128 + int(match.group(2))

    def capture(self, pane_id: str, *, escapes: bool = False) -> str:
        """The visible screen of a pane, as text (with colour escapes if asked)."""
        args = ["capture-pane", "-p", "-t", pane_id]
        if escapes:
            args.append("-e")
        return "\n".join(self.run(*args))

    def capture_screens(self, pane_ids: list[str]) -> dict[str, str]:
        """The visible screens of several panes, in one tmux call.

        `-N` keeps the spaces a program wrote at the ends of lines (a shell
        prompt's trailing space is how a profile tells it from output ending in
        `$` or `%`). The captures are separated by a marker line that no screen
        holds; when a pane vanished since the caller listed it, tmux stops at
        that command and the panes are asked one by one. A pane that cannot be
        captured is left out.
        """
        if not pane_ids:
            return {}
        mark = f"{_SEP}podium-screen-{secrets.token_hex(6)}"
        args: list[str] = []
        for pane in pane_ids:
            args += ["capture-pane", "-p", "-N", "-t", pane, ";"]
            args += ["display-message", "-p", mark, ";"]
        try:
            lines = self.run(*args[:-1])
        except TmuxServerGone:
            return {}
        except TmuxError:
            out = {}
            for pane in pane_ids:
                try:
                    out[pane] = "\n".join(self.run("capture-pane", "-p", "-N", "-t", pane))
                except TmuxError:
                    continue
            return out
        out, rows, order = {}, [], iter(pane_ids)
        for line in lines:
            if line == mark:
                out[next(order)] = "\n".join(rows)
                rows = []
            else:
                rows.append(line)
        return out

    # -- actions ----------------------------------------------------------
    def spawn(
        self,
        session_name: str,
        window_name: str,
        argv: list[str],
        cwd: str,
        *,
        width: int = 200,
        height: int = 50,
        tag: str | None = None,
        start_server: bool = False,
    ) -> Spawned:
        """Start `argv` in a new window of `session_name` (created if missing).

        `tag` (the podium session id) is stored as the pane's `@podium_session`
        option, which is how a restarted engine recognises its panes.

        `start_server`: whether this may start podium's tmux server when none runs
        (what a person's `podium new` asks for). Without it, no server raises
        `TmuxServerGone`: a server that exited is reported, never replaced behind
        the person's back. (tmux starts a server for any `new-session`, so the
        check comes first; a server dying in between still gets podium's config.)
        """
        fmt = _SEP.join(("#{session_id}", "#{window_id}", "#{pane_id}", "#{pane_pid}"))
        # tmux runs a command of one argument through `sh -c`; `env` makes
        # every command at least two arguments, so none ever meets a shell.
        command = ["env", *argv] if len(argv) == 1 else list(argv)
        # remain-on-exit is set server-wide in the same tmux call, before the
        # program starts: a finished pane keeps its exit code and last words,
        # even for a program that exits at once.
        keep = ["set-option", "-g", "remain-on-exit", "on", ";"]
        if self.has_session(session_name):
            out = self.run(
                *keep,
                "new-window",
                "-d",
                "-P",
                "-F",
                fmt,
                "-t",
                f"={session_name}:",
                "-n",
                quote(window_name),
                "-c",
                quote(cwd),
                "--",
                *command,
            )
        else:
            if not start_server and not self.alive():
                raise TmuxServerGone(f"no tmux server on socket {self.socket!r}")
            out = self.run(
                "start-server",
                ";",
                *SERVER_START,
                *keep,
                "new-session",
                "-d",
                "-P",
                "-F",
                fmt,
                "-s",
                quote(session_name),
                "-n",
                quote(window_name),
                "-c",
                quote(cwd),
                "-x",
                str(width),
                "-y",
                str(height),
                "--",
                *command,
            )
        session_id, window_id, pane_id, pid = out[0].split(_SEP)
        if tag:
            self.run("set-option", "-p", "-t", pane_id, SESSION_TAG, tag)
        return Spawned(session_id, window_id, pane_id, int(pid) if pid.isdigit() else None)

    def respawn(self, pane_id: str, argv: list[str], cwd: str) -> Spawned:
        """Start `argv` again in a dead pane (`respawn-pane`, kept by remain-on-exit).

        The pane stays where it is, with its id, its window, its place on the
        stage and its options (the session tag, the border title). No `-k`: tmux
        refuses a pane whose program still runs (PaneGone when it is gone).
        """
        fmt = _SEP.join(("#{session_id}", "#{window_id}", "#{pane_id}", "#{pane_pid}"))
        command = ["env", *argv] if len(argv) == 1 else list(argv)
        out = self.run(
            "respawn-pane", "-t", pane_id, "-c", quote(cwd), "--", *command, ";",
            "display-message", "-p", "-t", pane_id, fmt,
        )  # fmt: skip
        session_id, window_id, pane, pid = out[0].split(_SEP)
        return Spawned(session_id, window_id, pane, int(pid) if pid.isdigit() else None)

    def send_text(self, pane_id: str, text: str, *, enter: bool = True) -> str:
        """Type `text` into a pane, literally; multi-line text goes as a bracketed paste.
        Returns what was typed.

        The text is `typeable` first: no escape sequence in it (a paste-end
        `ESC[201~` among them) can turn the rest of a paste into keystrokes.
        One line goes as typed keys (`send-keys -l`), unless it is too long for
        one tmux command: then, as multi-line text, through a buffer.

        Enter follows only once the text shows on screen (or after a short
        wait): TUIs such as Claude Code take text and Enter arriving in one
        burst for a paste, and the Enter becomes a newline instead of a submit.
        """
        text = typeable(text)
        if "\n" in text or len(text.encode()) > SEND_KEYS_MAX:
            buffer = f"podium-send-{pane_id.lstrip('%')}"
            self.run("load-buffer", "-b", buffer, "-", input=text)
            self.run("paste-buffer", "-p", "-d", "-b", buffer, "-t", pane_id)
        elif text:
            self.run("send-keys", "-t", pane_id, "-l", "--", quote(text, formats="plain"))
        if not enter:
            return text
        tail = "".join(text.split())[-16:]
        if tail:
            wait_for(lambda: tail in "".join(self.capture(pane_id).split()), ECHO_TIMEOUT)
        self.run("send-keys", "-t", pane_id, "Enter")
        return text

    def send_keys(self, pane_id: str, *keys: str) -> None:
        self.run("send-keys", "-t", pane_id, *keys)

    def kill_pane(self, pane_id: str) -> None:
        self.run("kill-pane", "-t", pane_id)

    def select_pane(self, pane_id: str) -> None:
        """Make the pane the active one of its window and its window the current one."""
        self.run("select-window", "-t", pane_id)
        self.run("select-pane", "-t", pane_id)

    def focus(self, pane_id: str) -> bool:
        """Select the pane and bring an attached client to it; True if a client shows it."""
        self.select_pane(pane_id)
        try:
            self.run("switch-client", "-t", pane_id)
        except TmuxError:
            return False  # no client attached: the pane is selected for the next attach
        return True

    def attach_argv(self, target: str, *, typed: bool = False) -> list[str]:
        """The command that attaches the current terminal to `target`.

        tmux starts a server for `attach-session` when none runs: the one podium
        runs carries podium's `-f`, so a server that died meanwhile is not
        replaced by one reading the person's `~/.tmux.conf`. `typed`: the short
        form, for a person to type (said only while the stage is there).
        """
        config = [] if typed else self._config_args
        return [tmux_path() or "tmux", *self._socket_args, *config, "attach-session", "-t", target]

    def switch_client_argv(self, target: str) -> list[str]:
        return [tmux_path() or "tmux", *self._socket_args, "switch-client", "-t", target]

    def socket_path(self) -> str | None:
        try:
            out = self.run("display-message", "-p", "#{socket_path}")
        except TmuxError:
            return None
        return out[0] if out else None
