"""Cues in tmux: key bindings, pane border titles, status counts, alerts.

Everything here acts on podium's own tmux server, through a `Tmux` bound to
its private socket; the user's default server is never addressed, so the
server-wide (`-g`) options and root-table bindings podium sets there touch
no one else's tmux.

The engine (`sessions.engine.cues`) decides *when*; this module says *what*:
the tmux commands that make the server show a set of sessions (pure), the
storm guard for alerts (pure, with an injected clock) and the delivery of an
alert (blocking: runs in a worker thread).

Every tmux command is built as argv; nothing goes through a shell except the
keys' `run-shell`, whose commands are built from fixed parts and tmux pane ids
only (see `server_commands` and `key_command`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sessions.glyphs import glyph
from sessions.stage import ROLE_OPTION, TOWER_ROLE, TOWER_TITLE
from sessions.state import State
from sessions.tmux import TmuxError, TmuxServerGone, quote

if TYPE_CHECKING:
    from collectors.settings import CuesSettings
    from sessions.tmux import Tmux

# Pane options podium sets on each of its panes; the border format reads them,
# so the format itself never changes and never contains a session's name.
TITLE_OPTION = "@podium_title"
STATE_OPTION = "@podium_state"
STYLE_OPTION = "@podium_style"
# Server-wide user options: the counts for the status line, the keys podium
# bound (to unbind them when the config changes) and which engine set them up.
COUNTS_OPTION = "@podium_counts"
KEYS_OPTION = "@podium_keys"
TOKEN_OPTION = "@podium_cues"

# A podium pane shows its title in its state's style; the tower's pane (by its
# role, which `podium up` sets) says "podium" whatever the pane's title (tmux's
# default title is the host name); any other pane (a shell the user split off)
# keeps tmux's usual border text.
BORDER_FORMAT = (
    f"#{{?{TITLE_OPTION},#[#{{{STYLE_OPTION}}}] #{{{TITLE_OPTION}}} #[default],"
    f"#{{?#{{==:#{{{ROLE_OPTION}}},{TOWER_ROLE}}},#[bold] {TOWER_TITLE} #[default],"
    "#{pane_index} #{pane_title}}}"
)
STATUS_RIGHT = f"#{{{COUNTS_OPTION}}}#[default] %H:%M"
STATUS_RIGHT_LENGTH = "80"
SESSION_KEYS = 9
# How long a tmux message about an alert stays on screen (ms).
MESSAGE_MS = "4000"
NOTIFY_TIMEOUT = 5.0
# The states the status line counts (each with its glyph, `sessions.glyphs`).
COUNTED = (
    State.BUSY,
    # Claude Code retries an API error: no input needed, but worth knowing.
    State.RETRYING,
    State.WAITING,
    # Looked at, not answered: still the person's move, told apart from a new turn.
    State.SEEN,
    State.PERMISSION,
    State.LIMITED,
)
_NEEDS = {
    State.WAITING.value: "is waiting for you",
    State.PERMISSION.value: "asks permission",
    State.LIMITED.value: "hit a usage limit",
}


def _clean(text: str) -> str:
    """One line of printable text (no control characters) for a notification."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


# -- what the server should show ---------------------------------------------------
@dataclass(frozen=True)
class SessionCue:
    """One listed session as the cues see it; `number` is the one it keeps for its life
    (the registry's), which its Alt-N key and its border show."""

    number: int | None
    name: str
    state: str
    pane_id: str | None


def style_for(state: str, cfg: CuesSettings) -> str:
    return str(getattr(cfg, f"style_{state}", "default"))


def title_for(cue: SessionCue) -> str:
    """'2 web · ◆ waiting': the number Alt-N takes, the name, the state with its glyph."""
    number = f"{cue.number} " if cue.number is not None else ""
    return f"{number}{cue.name} · {glyph(cue.state)} {cue.state}"


def counts_text(states: Iterable[str], cfg: CuesSettings) -> str:
    """'● 2 busy  ◆ 1 waiting  ▲ 1 permission', coloured; empty when nothing counts."""
    states = list(states)
    parts = []
    for state in COUNTED:
        n = states.count(state.value)
        if n:
            symbol = glyph(state.value)
            parts.append(f"#[{style_for(state.value, cfg)}]{symbol} {n} {state.value}#[default]")
    return "  ".join(parts)


Key = tuple[str, ...]


# A tmux pane id: the only variable part podium lets into a `run-shell` command.
PANE_ID = re.compile(r"%[0-9]+")


def key_command(podium: Sequence[str], *words: str) -> str:
    """The `run-shell` command for `podium key WORDS…`, quoted for sh and tmux.

    Built from fixed parts alone: the absolute path of podium's own console
    script or interpreter, literal words and pane ids (checked here); no
    session name or setting goes in. `quote` keeps tmux's format expansion
    of run-shell from reading a `#` in the path."""
    for word in words:
        if not (word.isalpha() or PANE_ID.fullmatch(word)):
            raise ValueError(f"not a key word or pane id: {word!r}")
    return quote(shlex.join([*podium, "key", *words]))


def command_word(value: str) -> str:
    """`value` as one word of a tmux command *string* (which tmux parses when it runs
    it, as `if-shell` does its commands): double-quoted, with what tmux's parser
    reads inside double quotes (`\\`, `"`, `$` for a variable, `~` for home)
    escaped."""
    for special in ("\\", '"', "$", "~"):
        value = value.replace(special, "\\" + special)
    return f'"{value}"'


def desired_state(
    sessions: list[SessionCue], cfg: CuesSettings, podium: Sequence[str]
) -> dict[Key, list[str]]:
    """What the server should show, as `{key: the tmux command that sets it}`.

    `podium` is the argv of the console script, for the session keys.

    The engine keeps the commands it last applied under the same keys and
    runs only those that differ, so a change of one session costs one tmux
    call with a few commands.
    """
    want: dict[Key, list[str]] = {}
    if cfg.border:
        for cue in sessions:
            if not cue.pane_id or cue.state == State.LOST:
                continue
            # set-option keeps a value as it is, but the border is drawn, which
            # reads `#[…]` and `##` in it: the title (a name) is quoted for that.
            for option, value in (
                (TITLE_OPTION, quote(title_for(cue), formats="drawn")),
                (STATE_OPTION, quote(cue.state, formats="plain")),
                (STYLE_OPTION, quote(style_for(cue.state, cfg), formats="plain")),
            ):
                want[("pane", cue.pane_id, option)] = [
                    "set-option", "-p", "-t", cue.pane_id, option, value
                ]  # fmt: skip
    if cfg.status:
        text = counts_text((cue.state for cue in sessions), cfg)
        want[("counts",)] = ["set-option", "-g", COUNTS_OPTION, quote(text, formats="plain")]
    if cfg.keys and cfg.session_keys:
        panes = {
            c.number: c.pane_id
            for c in sessions
            if c.number is not None and c.pane_id and c.state != State.LOST
        }
        for n in range(1, SESSION_KEYS + 1):
            key = f"M-{n}"
            pane = panes.get(n)
            if pane and PANE_ID.fullmatch(pane):
                # Through the engine (`podium key show`), as the next key: a
                # parked session comes on stage and the look is acknowledged,
                # where a bare switch-client would leave the stage for the
                # session's own window.
                shell = key_command(podium, "show", pane)
                want[("key", key)] = ["bind-key", "-n", key, "run-shell", "-b", shell]
            else:
                # Bound anyway: the key is podium's, and must not reach an agent
                # as ESC+digit just because there are fewer sessions.
                message = f"podium: no session {n}"
                want[("key", key)] = ["bind-key", "-n", key, "display-message", message]
    return want


def bound_keys(cfg: CuesSettings) -> list[str]:
    if not cfg.keys:
        return []
    keys = [cfg.next_key, cfg.tower_key]
    if cfg.session_keys:
        keys += [f"M-{n}" for n in range(1, SESSION_KEYS + 1)]
    return keys


def server_commands(
    cfg: CuesSettings,
    *,
    tower_window: str,
    podium: list[str],
    env: dict[str, str],
    token: str,
    old_keys: Iterable[str] = (),
) -> list[list[str]]:
    """The server-wide setup, applied once per tmux server life (and engine start).

    `podium` is the argv of the console script; `env` the variables `podium
    key next` needs to find this engine (data and runtime dir). `old_keys`
    are the keys an earlier setup bound (`@podium_keys`): unbound first, so
    that a key taken out of the config is given back.
    """
    cmds: list[list[str]] = [["unbind-key", "-n", key] for key in old_keys if key]
    # The next key's shell reads these from tmux's global environment: values
    # go through tmux as argv, never into the shell string below.
    cmds += [
        ["set-environment", "-g", name, quote(value, formats="plain")]
        for name, value in env.items()
    ]
    # Whether a person's terminal has the focus decides the desktop notifications
    # (`desktop_wanted`); a server podium did not start may lack it (tmux asks only
    # clients that attach after it is on: see `tmux.SERVER_START`).
    cmds.append(["set-option", "-g", "focus-events", "on"])
    # A click selects a pane (Textual in the tower's pane gets its own clicks).
    cmds.append(["set-option", "-g", "mouse", "on" if cfg.mouse else "off"])
    if cfg.border:
        cmds += [
            ["set-option", "-g", "pane-border-status", "top"],
            ["set-option", "-g", "pane-border-format", BORDER_FORMAT],
        ]
    else:
        cmds += [
            ["set-option", "-gu", "pane-border-status"],
            ["set-option", "-gu", "pane-border-format"],
        ]
    if cfg.status:
        cmds += [
            ["set-option", "-g", "status-right", STATUS_RIGHT],
            ["set-option", "-g", "status-right-length", STATUS_RIGHT_LENGTH],
        ]
    else:
        cmds += [
            ["set-option", "-gu", "status-right"],
            ["set-option", "-gu", "status-right-length"],
        ]
    if cfg.keys:
        # run-shell takes a shell string: `key_command` builds it from fixed parts.
        next_shell = key_command(podium, "next")
        cmds.append(["bind-key", "-n", cfg.next_key, "run-shell", "-b", next_shell])
        # -F: the condition is a tmux format (no shell): does a window of that
        # name in the client's session hold a live tower (the pane whose
        # `@podium_role` is `tower`)? `tower_window` is validated to letters,
        # digits, '-' and '_' (settings), so it is inert in a format.
        live_tower = (
            f"#{{W:#{{?#{{==:#{{window_name}},{tower_window}}},"
            "#{P:#{?#{==:#{@podium_role},tower},#{?pane_dead,,1},}},}}"
        )
        cmds.append([
            "bind-key", "-n", cfg.tower_key, "if-shell", "-F", live_tower,
            # The tower is the stage window's leftmost pane; switch-client to a pane
            # selects its window and the pane too. Quoted: a bare `{` opens a
            # block in tmux's command language.
            f'switch-client -t ":={tower_window}.{{left}}"',
            # No live tower (q closed it, it crashed, or there is no stage yet):
            # the engine brings it back, as `podium up` does.
            f"run-shell -b {command_word(key_command(podium, 'tower'))}",
        ])  # fmt: skip
    cmds.append(["set-option", "-g", KEYS_OPTION, " ".join(bound_keys(cfg))])
    # Last: an engine that finds its token finds everything above in place.
    cmds.append(["set-option", "-g", TOKEN_OPTION, token])
    return cmds


def run_commands(tmux: Tmux, commands: list[list[str]]) -> list[bool]:
    """Run commands in one tmux call; on a failure, one by one. Which ones succeeded.

    tmux stops a command list at its first error (a pane that vanished since
    the engine looked); the one-by-one retry lets the rest through. A server
    that is gone raises `TmuxServerGone`.
    """
    if not commands:
        return []
    joined: list[str] = []
    for argv in commands:
        joined += [*argv, ";"]
    try:
        tmux.run(*joined[:-1])
        return [True] * len(commands)
    except TmuxServerGone:
        raise
    except TmuxError:
        pass
    ok = []
    for argv in commands:
        try:
            tmux.run(*argv)
            ok.append(True)
        except TmuxServerGone:
            raise
        except TmuxError:
            ok.append(False)
    return ok


@dataclass(frozen=True)
class Applied:
    """The result of one `apply`: what is now in place, what failed, if set up anew."""

    state: dict[Key, list[str]]
    failed: list[list[str]]
    set_up: bool
    server: bool


def apply(
    tmux: Tmux,
    token: str,
    setup: Callable[[list[str]], list[list[str]]],
    desired: dict[Key, list[str]],
    applied: dict[Key, list[str]],
) -> Applied:
    """Bring podium's tmux server to `desired` (blocking: a worker thread runs it).

    A server without this engine's token is new (tmux restarted) or was set
    up by another engine or config: it gets `setup(old_keys)` and everything
    in `desired`, whatever `applied` says.
    """
    try:
        current = tmux.run("show-options", "-gqv", TOKEN_OPTION)
        set_up = current != [token]
        failed: list[list[str]] = []
        if set_up:
            old = tmux.run("show-options", "-gqv", KEYS_OPTION)
            commands = setup(" ".join(old).split())
            failed += [c for c, ok in zip(commands, run_commands(tmux, commands), strict=True)
                       if not ok]  # fmt: skip
            applied = {}
        todo = [(key, argv) for key, argv in desired.items() if applied.get(key) != argv]
        results = run_commands(tmux, [argv for _, argv in todo])
    except TmuxServerGone:
        return Applied({}, [], False, False)
    state = {key: argv for key, argv in applied.items() if key in desired}
    for (key, argv), ok in zip(todo, results, strict=True):
        if ok:
            state[key] = argv
        else:
            failed.append(argv)
    return Applied(state, failed, set_up, True)


# -- alerts ---------------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    """One alert: a title and a line, about one or several sessions."""

    title: str
    body: str
    sessions: tuple[str, ...]
    # The podium session ids, in the same order as the names in `sessions`.
    session_ids: tuple[str, ...] = ()


def alert_for(pending: list[tuple[str, str]]) -> Alert:
    """The alert for (name, kind) pairs: one session says what it needs, several are counted."""
    names = tuple(name for name, _ in pending)
    if len(pending) == 1:
        name, kind = pending[0]
        return Alert("podium", f"{name} {_NEEDS.get(kind, 'needs you')}", names)
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return Alert("podium", f"{len(names)} sessions need you: {shown}", names)


class AlertGate:
    """One alert per transition, never a storm.

    An offered item waits `coalesce_s` for others (a burst becomes one
    alert); a session alerts at most once per `session_quiet_s`; at most
    `per_minute` alerts go out in any 60 s, the rest wait and then go out
    together, as one. The clock is injected for tests.
    """

    WINDOW = 60.0

    def __init__(
        self,
        *,
        coalesce_s: float,
        session_quiet_s: float,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.coalesce_s = coalesce_s
        self.session_quiet_s = session_quiet_s
        self.per_minute = per_minute
        self.clock = clock
        self._pending: dict[str, tuple[str, str]] = {}
        self._first_pending: float | None = None
        self._last_alert: dict[str, float] = {}
        self._sent: deque[float] = deque()

    def offer(self, session_id: str, name: str, kind: str) -> bool:
        """An item opened; False if it is dropped (its session alerted moments ago)."""
        now = self.clock()
        last = self._last_alert.get(session_id)
        if last is not None and now - last < self.session_quiet_s:
            return False
        if not self._pending:
            self._first_pending = now
        self._pending[session_id] = (name, kind)
        return True

    @property
    def pending(self) -> int:
        return len(self._pending)

    def next_due(self) -> float | None:
        """Clock time at which `take` can give the pending alert; None if nothing waits."""
        if not self._pending or self._first_pending is None:
            return None
        due = self._first_pending + self.coalesce_s
        self._forget_old(self.clock())
        if len(self._sent) >= self.per_minute:
            due = max(due, self._sent[0] + self.WINDOW)
        return due

    def take(self, still_open: Callable[[str], bool] = lambda _sid: True) -> Alert | None:
        """The alert due now, if any; items closed meanwhile (`still_open`) are left out."""
        now = self.clock()
        due = self.next_due()
        if due is None or now < due:
            return None
        pending = [(sid, item) for sid, item in self._pending.items() if still_open(sid)]
        self._pending.clear()
        self._first_pending = None
        if not pending:
            return None
        self._sent.append(now)
        for sid, _ in pending:
            self._last_alert[sid] = now
        horizon = now - self.session_quiet_s
        self._last_alert = {sid: t for sid, t in self._last_alert.items() if t >= horizon}
        alert = alert_for([item for _, item in pending])
        return replace(alert, session_ids=tuple(sid for sid, _ in pending))

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.WINDOW:
            self._sent.popleft()


def osc_notification(alert: Alert, code: int) -> str:
    """The OSC 777 (`notify;title;body`) or OSC 9 (`body`) escape for a terminal."""
    title, body = _clean(alert.title).replace(";", ","), _clean(alert.body)
    if code == 9:
        # "podium: " first: OSC 9 bodies that start with digits and ';' are
        # ConEmu/Windows Terminal progress commands, not notifications.
        return f"\x1b]9;{title}: {body}\x07"
    return f"\x1b]777;notify;{title};{body}\x07"


def tmux_passthrough(sequence: str) -> str:
    """Wrap an escape for a tmux the client itself runs in (DCS passthrough)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


@dataclass(frozen=True)
class Client:
    """An attached tmux client: a person's terminal."""

    name: str
    tty: str
    termname: str
    # The terminal has the focus: tmux's `focused` client flag. tmux counts a client
    # focused until its terminal reports a focus-out, which it does with
    # `focus-events` on (podium's server: `server_commands`, `tmux.SERVER_START`).
    focused: bool = True
    # The pane the client shows: the active pane of its session's current window.
    pane_id: str = ""


_CLIENT_FORMAT = "\x1f".join(
    ("#{client_name}", "#{client_tty}", "#{client_termname}", "#{client_flags}", "#{pane_id}")
)


def list_clients(tmux: Tmux) -> list[Client]:
    try:
        lines = tmux.run("list-clients", "-F", _CLIENT_FORMAT)
    except TmuxServerGone:
        return []
    clients = []
    for line in lines:
        parts = line.split("\x1f")
        if len(parts) == 5:
            name, tty, termname, flags, pane = parts
            focused = "focused" in flags.split(",")
            clients.append(Client(name, tty, termname, focused=focused, pane_id=pane))
    return clients


def looked_at(pane_id: str | None, clients: Sequence[Client]) -> bool:
    """Whether the person looks at this pane now: a client whose terminal has the
    focus shows it. No alert is given for it: they see it already."""
    return bool(pane_id) and any(c.focused and c.pane_id == pane_id for c in clients)


def desktop_wanted(clients: Sequence[Client]) -> bool:
    """A desktop notification only reaches a person who is not at a podium terminal:
    no client is attached, or none of their terminals has the focus. At one, the
    bell and the message in tmux say it already."""
    return not any(c.focused for c in clients)


@dataclass(frozen=True)
class Delivered:
    """What one alert did: the terminals rung, the clients shown the message, the
    desktop notification sent (`notify-send`, `osc`, or "" for none), and a line
    for the log."""

    bells: int = 0
    messages: int = 0
    desktop: str = ""
    done: list[str] = field(default_factory=list)

    def received(self) -> list[tuple[str, str]]:
        """(kind, how) of each kind of alert the person received: `bell` and
        `message` with how many terminals, `desktop` with how it went."""
        got = [("bell", str(self.bells)), ("message", str(self.messages))]
        counted = [(kind, n) for kind, n in got if n != "0"]
        return counted + ([("desktop", self.desktop)] if self.desktop else [])


def write_tty(path: str, data: bytes) -> bool:
    """Write to a client's terminal without blocking; False if it cannot be done.

    The bytes go straight to the terminal, beside tmux's own output: a bell
    and an OSC notification are whole sequences written at once, and tmux has
    no command that rings or notifies a client.
    """
    if not path.startswith("/dev/"):
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        os.write(fd, data)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def notify_send(alert: Alert) -> bool:
    """A desktop notification through `notify-send` (argv, no shell); False if it failed."""
    path = shutil.which("notify-send")
    if path is None:
        return False
    argv = [path, "--app-name=podium", "--", _clean(alert.title), _clean(alert.body)]
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=NOTIFY_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def deliver(
    tmux: Tmux, alert: Alert, cfg: CuesSettings, clients: list[Client] | None = None
) -> Delivered:
    """Ring, show and notify one alert (blocking: a worker thread runs it).

    `clients` are the attached clients as the engine listed them to decide the
    alert (listed here when not given). The bell and the message go to every
    client; a desktop notification only when `desktop_wanted` (an OSC one then
    reaches the attached terminals, none of them focused).
    """
    done: list[str] = []
    if clients is None:
        clients = list_clients(tmux)
    messages = 0
    if cfg.message:
        text = quote(f"podium: {_clean(alert.body)}", formats="drawn")
        for client in clients:
            try:
                tmux.run("display-message", "-c", client.name, "-d", MESSAGE_MS, "--", text)
                done.append(f"message {client.name}")
                messages += 1
            except TmuxError:
                pass
    desktop = ""
    osc = False
    if cfg.notify != "off" and desktop_wanted(clients):
        osc = cfg.notify == "osc"
        if cfg.notify in ("auto", "notify-send"):
            if notify_send(alert):
                done.append("notify-send")
                desktop = "notify-send"
            elif cfg.notify == "auto":
                osc = True  # no desktop bus here (ssh): the terminal may still notify
    bells = 0
    for client in clients:
        data = "\a" if cfg.bell else ""
        if osc:
            sequence = osc_notification(alert, cfg.osc)
            nested = client.termname.startswith(("tmux", "screen"))
            data += tmux_passthrough(sequence) if nested else sequence
        if data and write_tty(client.tty, data.encode()):
            done.append(f"{'bell ' if cfg.bell else ''}{'osc ' if osc else ''}{client.tty}")
            bells += 1 if cfg.bell else 0
            desktop = desktop or ("osc" if osc else "")
    return Delivered(bells=bells, messages=messages, desktop=desktop, done=done)
