"""The pure parts of the cues: tmux commands, counts, the storm guard, alert delivery."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest

from collectors.settings import CuesSettings, Settings, SettingsError, load_settings
from sessions import cues
from sessions.cues import AlertGate, SessionCue
from sessions.tmux import TmuxError, TmuxServerGone, quote

CFG = CuesSettings()
PODIUM = ["/opt/pod ium/bin/podium"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeTmux:
    """Records tmux commands; fails those whose argv contains `fail_on`."""

    def __init__(self, fail_on: str | None = None, gone: bool = False) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail_on = fail_on
        self.gone = gone
        self.options: dict[str, str] = {}
        self.clients: list[str] = []

    def run(self, *args: str) -> list[str]:
        if self.gone:
            raise TmuxServerGone("no server")
        self.calls.append(args)
        if self.fail_on is not None and self.fail_on in args:
            raise TmuxError("tmux: can't find pane")
        if args[0] == "show-options":
            return [self.options[args[-1]]] if args[-1] in self.options else []
        if args[0] == "list-clients":
            return self.clients
        return []


def _commands(calls: list[tuple[str, ...]]) -> list[list[str]]:
    """Split recorded tmux calls into single commands (`;` joins a batch)."""
    out: list[list[str]] = []
    for call in calls:
        current: list[str] = []
        for a in call:
            if a == ";":
                out.append(current)
                current = []
            else:
                current.append(a)
        out.append(current)
    return out


SESSIONS = [
    SessionCue(1, "api", "busy", "%1"),
    SessionCue(2, "web", "waiting", "%2"),
    SessionCue(3, "gone", "lost", None),
    SessionCue(4, "asks", "permission", "%4"),
]


def test_text_for_tmux_is_taken_literally() -> None:
    # '#' starts formats (#(...) would run a shell command) and styles.
    assert quote("a#(rm -rf ~)#{pane_id}") == "a##(rm -rf ~)##{pane_id}"
    # An expanding argument keeps `#…[` as it is; drawing reads `##[` as `#[`.
    assert quote("a##b#[fg=red]") == "a####b#[fg=red]"
    assert quote("a#(rm)#[fg=red]", formats="drawn") == "a##(rm)##[fg=red]"
    assert quote("a#b", formats="plain") == "a#b"
    # tmux's parser ends a command at an argument that ends with ';'.
    assert quote("ls;", formats="plain") == "ls\\;"
    assert quote("#;") == "##\\;"
    assert quote("a;b") == "a;b"


def test_counts_show_only_what_is_there_coloured_by_state() -> None:
    text = cues.counts_text(["busy", "busy", "waiting", "idle", "permission"], CFG)
    assert text == (
        "#[fg=blue]● 2 busy#[default]  #[fg=green,bold]◆ 1 waiting#[default]  "
        "#[fg=red,bold]▲ 1 permission#[default]"
    )
    assert cues.counts_text(["idle", "exited"], CFG) == ""
    # A seen turn is counted apart from a new one, and from idle.
    assert cues.counts_text(["seen", "waiting", "seen", "idle"], CFG) == (
        "#[fg=green,bold]◆ 1 waiting#[default]  #[fg=green]◇ 2 seen#[default]"
    )


def test_desired_state_titles_counts_and_session_keys() -> None:
    want = cues.desired_state(SESSIONS, CFG, PODIUM)
    assert want[("pane", "%2", "@podium_title")][-1] == "2 web · ◆ waiting"
    assert want[("pane", "%2", "@podium_state")][-1] == "waiting"
    assert want[("pane", "%4", "@podium_style")][-1] == "fg=red,bold"
    assert not any(k[1] is None for k in want if k[0] == "pane")  # lost: no pane
    assert want[("counts",)][-1] == cues.counts_text(["busy", "waiting", "lost", "permission"], CFG)
    # Alt-n follows creation order; a lost session's number stays taken.
    assert want[("key", "M-1")][:5] == ["bind-key", "-n", "M-1", "run-shell", "-b"]
    assert shlex.split(want[("key", "M-1")][5]) == [*PODIUM, "key", "show", "%1"]
    assert want[("key", "M-3")][3] == "display-message"
    assert shlex.split(want[("key", "M-4")][-1])[-1] == "%4"
    assert want[("key", "M-9")][-1] == "podium: no session 9"


def test_a_session_name_cannot_inject_formats_or_end_a_command() -> None:
    evil = [SessionCue(1, "x #(touch /tmp/p) #[fg=red];", "idle", "%1")]
    title = cues.desired_state(evil, CFG, PODIUM)[("pane", "%1", "@podium_title")][-1]
    assert title == "1 x ##(touch /tmp/p) ##[fg=red]; · ○ idle"  # '##' shows as '#'


def test_only_pane_ids_and_words_reach_a_key_shell() -> None:
    assert shlex.split(cues.key_command(["/p#x/podium"], "show", "%12")) == [
        "/p##x/podium", "key", "show", "%12"
    ]  # fmt: skip
    for bad in ("%1; rm -rf ~", "$(id)", "%", "1"):
        with pytest.raises(ValueError):
            cues.key_command(PODIUM, "show", bad)
    # A pane id that is not tmux's shape gets no shell at all.
    odd = [SessionCue(1, "odd", "idle", "%1;x")]
    assert cues.desired_state(odd, CFG, PODIUM)[("key", "M-1")][3] == "display-message"


def test_switches_turn_parts_off() -> None:
    cfg = CuesSettings(border=False, status=False, session_keys=False)
    assert cues.desired_state(SESSIONS, cfg, PODIUM) == {}
    cfg = CuesSettings(keys=False)
    assert not any(k[0] == "key" for k in cues.desired_state(SESSIONS, cfg, PODIUM))


def _server(cfg: CuesSettings = CFG, old: tuple[str, ...] = ()) -> list[list[str]]:
    return cues.server_commands(
        cfg,
        tower_window="tower",
        podium=PODIUM,
        env={"PODIUM_DATA_DIR": "/d;", "PODIUM_RUNTIME_DIR": "/r"},
        token="T",
        old_keys=old,
    )


def test_server_setup_binds_keys_without_user_values_in_a_shell() -> None:
    cmds = _server(old=("M-x",))
    assert cmds[0] == ["unbind-key", "-n", "M-x"]
    assert ["set-environment", "-g", "PODIUM_DATA_DIR", "/d\\;"] in cmds
    nxt = next(c for c in cmds if c[:3] == ["bind-key", "-n", "M-Space"])
    assert nxt[3:5] == ["run-shell", "-b"]
    assert shlex.split(nxt[5]) == [*PODIUM, "key", "next"]
    tower = next(c for c in cmds if c[:3] == ["bind-key", "-n", "M-0"])
    assert tower[3:5] == ["if-shell", "-F"] and 'switch-client -t ":=tower.{left}"' in tower
    # No live tower: the engine brings one back (the word is checked on a real tmux).
    assert tower[-1] == "run-shell -b " + cues.command_word(cues.key_command(PODIUM, "tower"))
    assert ["set-option", "-g", "mouse", "on"] in cmds
    assert ["set-option", "-g", "pane-border-status", "top"] in cmds
    assert ["set-option", "-g", "status-right", cues.STATUS_RIGHT] in cmds
    keys = next(c for c in cmds if c[2:3] == ["@podium_keys"])
    assert keys[-1].split()[:3] == ["M-Space", "M-0", "M-1"]
    assert cmds[-1] == ["set-option", "-g", "@podium_cues", "T"]  # last: all else is in place


def test_server_setup_with_everything_off_gives_back_the_old_keys() -> None:
    cfg = CuesSettings(keys=False, border=False, status=False)
    cmds = _server(cfg, old=("M-Space", "M-1"))
    assert cmds[:2] == [["unbind-key", "-n", "M-Space"], ["unbind-key", "-n", "M-1"]]
    assert not any(c[0] == "bind-key" for c in cmds)
    assert ["set-option", "-gu", "pane-border-status"] in cmds
    assert ["set-option", "-g", "@podium_keys", ""] in cmds
    assert ["set-option", "-g", "mouse", "off"] in _server(CuesSettings(mouse=False))


def test_apply_sets_up_a_new_server_then_sends_only_changes() -> None:
    tmux = FakeTmux()
    want = cues.desired_state(SESSIONS, CFG, PODIUM)
    first = cues.apply(tmux, "T", lambda old: _server(old=tuple(old)), want, {})
    assert first.set_up and first.server and first.state == want and not first.failed
    tmux.options["@podium_cues"] = "T"
    tmux.calls.clear()
    moved = [SessionCue(1, "api", "waiting", "%1"), *SESSIONS[1:]]
    want2 = cues.desired_state(moved, CFG, PODIUM)
    second = cues.apply(tmux, "T", lambda old: [], want2, first.state)
    sent = _commands(tmux.calls[1:])
    assert not second.set_up
    assert {c[4] for c in sent if c[0] == "set-option" and c[1] == "-p"} == {
        "@podium_title",
        "@podium_state",
        "@podium_style",
    }
    assert all(c[3] == "%1" for c in sent if c[1] == "-p")
    assert any(c[2] == "@podium_counts" for c in sent)
    assert len(tmux.calls) == 2  # the token check, then one batch


def test_apply_retries_one_by_one_and_remembers_what_failed() -> None:
    tmux = FakeTmux(fail_on="%2")
    tmux.options["@podium_cues"] = "T"
    want = cues.desired_state(SESSIONS, CFG, PODIUM)
    result = cues.apply(tmux, "T", lambda old: [], want, {})
    assert result.failed and all("%2" in c for c in result.failed)
    assert ("pane", "%2", "@podium_title") not in result.state  # tried again next time
    assert ("pane", "%1", "@podium_title") in result.state


def test_apply_on_a_gone_server_applies_nothing() -> None:
    result = cues.apply(FakeTmux(gone=True), "T", lambda old: [], {("counts",): ["x"]}, {})
    assert result == cues.Applied({}, [], False, False)


def test_a_burst_becomes_one_alert() -> None:
    clock = Clock()
    gate = AlertGate(coalesce_s=0.5, session_quiet_s=5, per_minute=3, clock=clock)
    for i in range(10):
        assert gate.offer(f"s{i}", f"n{i}", "waiting")
        clock.now += 0.01
    assert gate.take() is None  # still gathering
    clock.now = gate.next_due() or 0
    alert = gate.take()
    assert alert is not None and alert.body.startswith("10 sessions need you: n0, n1")
    assert alert.body.endswith("…") and len(alert.sessions) == 10
    assert gate.take() is None and gate.next_due() is None


def test_one_alert_per_transition_says_what_is_needed() -> None:
    clock = Clock()
    gate = AlertGate(coalesce_s=0, session_quiet_s=0, per_minute=100, clock=clock)
    texts = []
    for kind in ("permission", "waiting", "limited"):
        gate.offer("s", "api", kind)
        alert = gate.take()
        assert alert is not None
        texts.append(alert.body)
        clock.now += 1
    assert texts == ["api asks permission", "api is waiting for you", "api hit a usage limit"]


def test_a_flapping_session_alerts_once_per_quiet_period() -> None:
    clock = Clock()
    gate = AlertGate(coalesce_s=0, session_quiet_s=5, per_minute=100, clock=clock)
    sent = 0
    for _ in range(20):  # waiting every half second for ten seconds
        if gate.offer("s", "api", "waiting") and gate.take() is not None:
            sent += 1
        clock.now += 0.5
    assert sent == 2


def test_the_rate_limit_holds_the_rest_and_sends_it_as_one() -> None:
    clock = Clock()
    gate = AlertGate(coalesce_s=0, session_quiet_s=0, per_minute=2, clock=clock)
    bodies = []
    for i in range(6):
        gate.offer(f"s{i}", f"n{i}", "waiting")
        alert = gate.take()
        if alert:
            bodies.append(alert.body)
        clock.now += 1
    assert bodies == ["n0 is waiting for you", "n1 is waiting for you"]
    due = gate.next_due()
    assert due == 1000.0 + 60  # when the first of the two leaves the window
    clock.now = due
    alert = gate.take(still_open=lambda sid: sid != "s3")  # s3 was seen meanwhile
    assert alert is not None and alert.body == "3 sessions need you: n2, n4, n5"


def test_nothing_is_sent_for_items_closed_before_their_alert() -> None:
    clock = Clock()
    gate = AlertGate(coalesce_s=1, session_quiet_s=0, per_minute=5, clock=clock)
    gate.offer("s", "api", "waiting")
    clock.now += 1
    assert gate.take(still_open=lambda sid: False) is None
    assert gate.next_due() is None


def test_osc_escapes() -> None:
    alert = cues.Alert("podium", "a;b\x1b]0;x\x07 is waiting", ("a",))
    seq = cues.osc_notification(alert, 777)
    assert seq.startswith("\x1b]777;notify;podium;") and seq.endswith("\x07")
    assert seq.count("\x1b") == 1 and seq.count("\x07") == 1  # no escape from the body
    assert cues.osc_notification(alert, 9).startswith("\x1b]9;podium: ")
    wrapped = cues.tmux_passthrough("\x1b]9;hi\x07")
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;hi\x07\x1b\\"


@pytest.fixture
def client_tty() -> tuple[int, str]:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    yield master, path
    os.close(master)
    os.close(slave)


def _read(fd: int) -> bytes:
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


def _client(
    tty: str, term: str = "xterm-256color", *, focused: bool = False, pane: str = "%1"
) -> str:
    """A `list-clients` line as `cues.list_clients` asks for it."""
    flags = "attached,focused,UTF-8" if focused else "attached,UTF-8"
    return "\x1f".join((tty, tty, term, flags, pane))


def _fake_notify_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A notify-send on PATH that logs its argv, one argument a line; returns the log."""
    log = tmp_path / "notified"
    fake = tmp_path / "bin" / "notify-send"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {log}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    return log


def test_the_clients_say_what_the_person_looks_at() -> None:
    tmux = FakeTmux()
    tmux.clients = [
        _client("/dev/pts/1", focused=True, pane="%3"),
        _client("/dev/pts/2", focused=False, pane="%4"),
        "a line of another tmux",
    ]
    clients = cues.list_clients(tmux)
    assert [(c.tty, c.focused, c.pane_id) for c in clients] == [
        ("/dev/pts/1", True, "%3"),
        ("/dev/pts/2", False, "%4"),
    ]
    # Looking means: a client whose terminal has the focus shows the pane.
    assert cues.looked_at("%3", clients)
    assert not cues.looked_at("%4", clients)  # shown, but the terminal is elsewhere
    assert not cues.looked_at("%5", clients) and not cues.looked_at(None, clients)
    # A desktop notification only when no terminal of the person's has the focus.
    assert not cues.desktop_wanted(clients)
    assert cues.desktop_wanted(clients[1:]) and cues.desktop_wanted([])
    assert not cues.list_clients(FakeTmux(gone=True))


def test_focus_events_are_on_for_the_clients_that_attach() -> None:
    cmds = cues.server_commands(CFG, tower_window="tower", podium=PODIUM, env={}, token="T")
    assert ["set-option", "-g", "focus-events", "on"] in cmds


def test_the_gate_names_the_sessions_it_alerts_for() -> None:
    clock = Clock()
    gate = AlertGate(coalesce_s=0, session_quiet_s=5, per_minute=10, clock=clock)
    gate.offer("s1", "api", "waiting")
    gate.offer("s2", "web", "permission")
    alert = gate.take(still_open=lambda sid: sid != "s1")  # s1: the person looks at it
    assert alert is not None and alert.session_ids == ("s2",) and alert.sessions == ("web",)
    assert alert.body == "web asks permission"
    # Left out, not alerted: s1 has no quiet period to sit out when it needs them again.
    assert gate.offer("s1", "api", "waiting") and not gate.offer("s2", "web", "waiting")


def test_deliver_to_an_unfocused_terminal_rings_shows_and_notifies(
    client_tty: tuple[int, str],
) -> None:
    master, path = client_tty
    tmux = FakeTmux()
    tmux.clients = [_client(path)]
    alert = cues.alert_for([("api", "waiting")])
    delivered = cues.deliver(tmux, alert, CuesSettings(notify="osc"))
    data = _read(master)
    assert data.startswith(b"\x07\x1b]777;notify;podium;api is waiting for you\x07")
    message = "podium: api is waiting for you"
    assert ["display-message", "-c", path, "-d", "4000", "--", message] in [
        list(c) for c in tmux.calls
    ]
    assert (delivered.bells, delivered.messages, delivered.desktop) == (1, 1, "osc")
    assert delivered.received() == [("bell", "1"), ("message", "1"), ("desktop", "osc")]


def test_a_focused_terminal_gets_the_bell_and_message_but_no_desktop_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_tty: tuple[int, str]
) -> None:
    master, path = client_tty
    log = _fake_notify_send(tmp_path, monkeypatch)
    tmux = FakeTmux()
    tmux.clients = [_client(path, focused=True)]
    alert = cues.alert_for([("api", "waiting")])
    for mode in ("auto", "notify-send", "osc"):
        delivered = cues.deliver(tmux, alert, CuesSettings(notify=mode))
        assert _read(master) == b"\x07"  # the bell alone: no OSC escape
        assert delivered.received() == [("bell", "1"), ("message", "1")], mode
    assert not log.exists()  # notify-send never ran
    # The same terminal, once it lost the focus, gets the desktop notification.
    tmux.clients = [_client(path, focused=False)]
    assert cues.deliver(tmux, alert, CuesSettings(notify="auto")).desktop == "notify-send"
    assert log.read_text().splitlines()[-1] == "api is waiting for you"


def test_deliver_wraps_osc_for_a_client_inside_tmux(client_tty: tuple[int, str]) -> None:
    master, path = client_tty
    tmux = FakeTmux()
    tmux.clients = [_client(path, "tmux-256color")]
    cfg = CuesSettings(notify="osc", bell=False, message=False, osc=9)
    delivered = cues.deliver(tmux, cues.alert_for([("api", "waiting")]), cfg)
    assert _read(master).startswith(b"\x1bPtmux;\x1b\x1b]9;podium: api is waiting")
    assert delivered.received() == [("desktop", "osc")]


def test_deliver_prefers_notify_send_and_passes_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_tty: tuple[int, str]
) -> None:
    master, path = client_tty
    log = _fake_notify_send(tmp_path, monkeypatch)
    tmux = FakeTmux()
    tmux.clients = [_client(path, "xterm")]
    alert = cues.alert_for([("$(touch x)", "permission")])
    delivered = cues.deliver(tmux, alert, CuesSettings(notify="auto", message=False))
    assert "notify-send" in delivered.done
    assert log.read_text().splitlines() == [
        "--app-name=podium",
        "--",
        "podium",
        "$(touch x) asks permission",
    ]
    assert _read(master) == b"\x07"  # the bell; no OSC when notify-send worked
    # Nobody attached: the desktop notification alone.
    tmux.clients = []
    assert cues.deliver(tmux, alert, CuesSettings()).received() == [("desktop", "notify-send")]


def test_auto_falls_back_to_osc_when_notify_send_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_tty: tuple[int, str]
) -> None:
    master, path = client_tty
    fake = tmp_path / "notify-send"
    fake.write_text("#!/bin/sh\nexit 1\n")  # installed, but no desktop bus (ssh)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    tmux = FakeTmux()
    tmux.clients = [_client(path, "xterm")]
    cfg = CuesSettings(notify="auto", bell=False, message=False)
    cues.deliver(tmux, cues.alert_for([("api", "waiting")]), cfg)
    assert _read(master).startswith(b"\x1b]777;notify;")


def test_cue_settings_are_validated(tmp_path: Path) -> None:
    assert Settings().cues.next_key == "M-Space" and Settings().ui.tower_window == "tower"
    for key, value in (
        ("PODIUM_CUES__NEXT_KEY", "M-a;run"),
        ("PODIUM_CUES__STYLE_BUSY", "fg=red]#(x)"),
        ("PODIUM_UI__TOWER_WINDOW", "a}b"),
        ("PODIUM_CUES__NOTIFY", "loud"),
        ("PODIUM_CUES__OSC", "8"),
    ):
        with pytest.raises(SettingsError):
            load_settings(tmp_path / "none.toml", {key: value})
    assert load_settings(tmp_path / "none.toml", {"PODIUM_CUES__OSC": "9"}).cues.osc == 9
