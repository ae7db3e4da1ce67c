"""Cues in tmux, end to end: real engines, sim sessions, a real attached client.

Keys are pressed the way a terminal sends them (ESC+space is Alt-Space) into
`script`, which runs `tmux attach` on a pty, as a person's terminal does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import PodiumEnv
from libtmux.test.retry import retry_until

from sessions.glyphs import glyph

ALT_SPACE = b"\x1b "


def _start(env: PodiumEnv, **cues: str) -> PodiumEnv:
    """Start the engine with `[cues]` settings (as PODIUM_CUES__* variables)."""
    env.env.update({f"PODIUM_CUES__{key.upper()}": value for key, value in cues.items()})
    out = env.run("engine", "start")
    assert out.returncode == 0, out.stderr
    return env


def _fake_notify_send(env: PodiumEnv) -> Path:
    """A notify-send on the engine's PATH that logs its argv, one call a line."""
    bin_dir = env.root / "fakebin"
    bin_dir.mkdir()
    log = env.root / "notified.log"
    script = bin_dir / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n')
    script.chmod(0o755)
    env.env["PATH"] = f"{bin_dir}:{env.env['PATH']}"
    return log


def _no_late_permission_notification(env: PodiumEnv) -> None:
    """The sim repeats a pending dialog as `Notification permission_prompt` after a
    while; spooled just before the test answers and read just after, it reopens the
    dialog's item (a real transition, and a real alert). Tests that count alerts
    answer well before it."""
    env.env["PODIUM_SIM_PERMISSION_NOTIFY_S"] = "600"


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _sim(env: PodiumEnv, name: str, prompt: str = "[nopermission] [work=1] hi") -> str:
    return env.json("new", "--agent", "sim", "--name", name, "--prompt", prompt)["pane_id"]


def _shell(env: PodiumEnv, name: str) -> str:
    return env.json("new", "--agent", "shell", "--name", name, "--cmd", "sleep 600")["pane_id"]


def _root_keys(env: PodiumEnv, socket: str | None = None) -> str:
    if socket is None:
        return env.tmux("list-keys", "-T", "root").stdout
    cmd = ["tmux", "-L", socket, "list-keys", "-T", "root"]
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def _option(env: PodiumEnv, *args: str) -> str:
    return env.tmux("show-options", "-v", *args).stdout.rstrip("\n")


def _active_pane(env: PodiumEnv) -> str:
    return env.tmux("display-message", "-p", "-t", "=podium:", "#{pane_id}").stdout.strip()


def _messages(env: PodiumEnv) -> str:
    return env.tmux("show-messages").stdout


@contextmanager
def _client(env: PodiumEnv) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A real terminal attached to podium's session; yields it and the file of its output."""
    screen = env.root / f"client-{len(list(env.root.glob('client-*')))}.out"
    with screen.open("wb") as out:
        client = subprocess.Popen(
            ["script", "-qfc", f"tmux -L {env.socket} attach -t =podium", "/dev/null"],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert retry_until(lambda: env.tmux("list-clients").stdout.strip() != "", 10)
            yield client, screen
        finally:
            client.terminate()
            client.wait(10)


def _press(client: subprocess.Popen[bytes], keys: bytes) -> None:
    assert client.stdin is not None
    client.stdin.write(keys)
    client.stdin.flush()


def test_keys_border_and_status_are_set_on_podiums_server_only(engine: PodiumEnv) -> None:
    env = engine
    pane = _sim(env, "one")
    assert retry_until(lambda: "M-Space" in _root_keys(env), 10)
    keys = _root_keys(env)
    assert "run-shell -b" in keys and "key next" in keys
    assert "M-1                  run-shell -b " in keys and f"key show {pane}" in keys
    assert 'display-message "podium: no session 2"' in keys
    assert "if-shell -F" in keys and ":=tower.{left}" in keys
    assert _option(env, "-g", "pane-border-status") == "top"
    assert "@podium_title" in _option(env, "-g", "pane-border-format")
    assert "@podium_counts" in _option(env, "-g", "status-right")
    assert env.tmux("show-environment", "-g", "PODIUM_DATA_DIR").stdout.strip() == (
        f"PODIUM_DATA_DIR={env.data}"
    )
    # Another tmux server of the same user is not touched.
    other = f"{env.socket}-other"
    subprocess.run(["tmux", "-L", other, "new-session", "-d", "sleep 600"], check=True)
    try:
        assert "M-Space" not in _root_keys(env, other)
        shown = subprocess.run(
            ["tmux", "-L", other, "show-options", "-g"], capture_output=True, text=True
        )
        assert "@podium" not in shown.stdout and "pane-border-status top" not in shown.stdout
    finally:
        subprocess.run(["tmux", "-L", other, "kill-server"], check=False)
    # A restarted tmux server gets podium's cues again with its first session.
    env.tmux("kill-server")
    env.wait_state("one", "lost", seconds=15)
    pane = _sim(env, "two")
    assert retry_until(lambda: "M-Space" in _root_keys(env), 10)
    assert retry_until(lambda: f"show {pane}" in _root_keys(env), 10)  # two is session 2
    assert 'display-message "podium: no session 1"' in _root_keys(env)  # one is lost


def test_border_and_counts_follow_the_state(engine: PodiumEnv) -> None:
    env = engine
    _no_late_permission_notification(env)
    pane = _sim(env, "asks", "[permission] [work=1] [tools=1] go")
    env.wait_state("asks", "permission", seconds=30)

    def shows(state: str, style: str, count: str) -> bool:
        return (
            _option(env, "-p", "-t", pane, "@podium_state") == state
            and _option(env, "-p", "-t", pane, "@podium_style") == style
            and _option(env, "-p", "-t", pane, "@podium_title")
            == f"1 asks · {glyph(state)} {state}"
            and count in _option(env, "-g", "@podium_counts")
        )

    assert retry_until(lambda: shows("permission", "fg=red,bold", "▲ 1 permission"), 10)
    assert retry_until(lambda: "Do you want to proceed?" in env.screen(pane), 10)
    env.run("send", "asks", "1", check=True)
    env.wait_state("asks", "waiting", seconds=30)
    assert retry_until(lambda: shows("waiting", "fg=green,bold", "◆ 1 waiting"), 10)
    assert "permission" not in _option(env, "-g", "@podium_counts")


def test_alt_space_alt_digits_and_alt_0_from_a_real_terminal(engine: PodiumEnv) -> None:
    env = engine
    first = _sim(env, "first")
    env.wait_state("first", "waiting", seconds=30)
    second = _sim(env, "second")
    env.wait_state("second", "waiting", seconds=30)
    calm = _shell(env, "calm")
    env.tmux("select-window", "-t", calm)  # the person looks at neither waiting session
    assert retry_until(lambda: f"show {calm}" in _root_keys(env), 10)
    with _client(env) as (client, _screen):
        _press(client, ALT_SPACE)
        assert retry_until(lambda: _active_pane(env) == first, 10)
        env.wait_state("first", "seen", seconds=10)  # acknowledged by `next`, still your move
        assert env.session("second")["state"] == "waiting"
        _press(client, ALT_SPACE)
        assert retry_until(lambda: _active_pane(env) == second, 10)
        env.wait_state("second", "seen", seconds=10)
        _press(client, ALT_SPACE)
        assert retry_until(lambda: "podium: nobody is waiting for you" in _messages(env), 10)
        assert _active_pane(env) == second

        _press(client, b"\x1b3")
        assert retry_until(lambda: _active_pane(env) == calm, 10)
        _press(client, b"\x1b1")
        assert retry_until(lambda: _active_pane(env) == first, 10)
        # No tower yet: Alt-0 makes the stage, as `podium up` would, the tower focused.
        _press(client, b"\x1b0")
        window = ["display-message", "-p", "-t", "=podium:", "#{window_name} #{pane_index}"]
        assert retry_until(lambda: env.tmux(*window).stdout.strip() == "tower 0", 20)
        # Without an engine a session key still shows its pane (tmux alone).
        env.run("engine", "stop", check=True)
        _press(client, b"\x1b3")
        assert retry_until(lambda: _active_pane(env) == calm, 10)


def test_one_notification_per_transition(podium_env: PodiumEnv) -> None:
    log = _fake_notify_send(podium_env)
    env = _start(podium_env, notify="notify-send", session_quiet_s="0", coalesce_s="0.1")
    _no_late_permission_notification(env)
    pane = _sim(env, "asks", "[permission] [work=1] [tools=1] go")
    env.wait_state("asks", "permission", seconds=30)
    assert retry_until(lambda: len(_lines(log)) >= 1, 10)
    assert _lines(log) == ["--app-name=podium -- podium asks asks permission"]
    assert retry_until(lambda: "Do you want to proceed?" in env.screen(pane), 10)
    env.run("send", "asks", "1", check=True)
    env.wait_state("asks", "waiting", seconds=30)
    assert retry_until(lambda: len(_lines(log)) >= 2, 10)
    assert _lines(log)[1] == "--app-name=podium -- podium asks is waiting for you", (
        env.data / "engine.log"
    ).read_text()[-2000:]
    # As many alerts as attention items: the permission dialog, then the finished turn.
    assert env.json("report", "attention")["days"][-1]["items"] == 2
    assert len(_lines(log)) == 2


def _focus(env: PodiumEnv, client: subprocess.Popen[bytes], focused: bool) -> None:
    """The person's terminal gains or loses the focus: it reports it to tmux as a
    terminal does (focus-in ESC [ I, focus-out ESC [ O), and tmux shows it in the
    client's flags."""
    _press(client, b"\x1b[I" if focused else b"\x1b[O")

    def flags() -> bool:
        listed = env.tmux("list-clients", "-F", "#{client_flags}").stdout.strip()
        return ("focused" in listed.split(",")) == focused

    assert retry_until(flags, 10)


def _report(env: PodiumEnv) -> dict[str, int]:
    days = env.json("report", "attention")["days"]
    return days[-1] if days else {}


def test_bell_osc_and_message_reach_an_attached_terminal(podium_env: PodiumEnv) -> None:
    env = _start(podium_env, notify="osc")
    _shell(env, "calm")
    assert _option(env, "-s", "focus-events") == "on"  # set as the server started
    with _client(env) as (client, screen):
        _focus(env, client, False)  # the person is in another window: a desktop notice
        _sim(env, "ping")  # in a window of its own, out of sight
        env.wait_state("ping", "waiting", seconds=30)
        osc = b"\x1b]777;notify;podium;ping is waiting for you\x07"
        assert retry_until(lambda: osc in screen.read_bytes(), 10)
        assert b"\x07" + osc in screen.read_bytes()  # the bell, then the notification
        assert "podium: ping is waiting for you" in _messages(env)


def test_no_alert_for_the_pane_the_person_looks_at(podium_env: PodiumEnv) -> None:
    log = _fake_notify_send(podium_env)
    env = _start(podium_env, notify="notify-send", session_quiet_s="0", coalesce_s="0.1")
    watched = env.json("new", "--agent", "sim", "--name", "watched")["pane_id"]
    env.wait_state("watched", "idle", seconds=30)
    _sim(env, "elsewhere", "[nopermission] [work=1] later")
    env.wait_state("elsewhere", "waiting", seconds=30)
    # Nobody attached: the desktop notification is the one way to reach the person.
    elsewhere = "--app-name=podium -- podium elsewhere is waiting for you"
    assert retry_until(lambda: _lines(log) == [elsewhere], 10)
    with _client(env) as (client, screen):
        env.tmux("select-window", "-t", watched)
        clients = ["list-clients", "-F", "#{pane_id} #{client_flags}"]
        assert retry_until(lambda: env.tmux(*clients).stdout.startswith(f"{watched} "), 10)
        assert "focused" in env.tmux(*clients).stdout
        seen = env.json("engine", "status")["watch"]["sweeps"]
        assert env.wait_for(lambda: env.json("engine", "status")["watch"]["sweeps"] > seen + 1)

        # The watched pane's turn ends on screen, in a terminal that has the focus:
        # no bell, message or notification; the alert is counted as spared.
        env.run("send", "watched", "[nopermission] [work=1] go", check=True)
        env.wait_state("watched", "waiting", seconds=30)
        assert retry_until(lambda: _report(env).get("alerts_spared") == 1, 10)
        assert "podium: watched" not in _messages(env) and _lines(log) == [elsewhere]
        assert b"\x07" not in screen.read_bytes()

        # Out of sight: the bell and the message, but no desktop notification while
        # the person's terminal has the focus.
        env.run("send", "elsewhere", "[nopermission] [work=1] again", check=True)
        env.wait_state("elsewhere", "busy", "waiting", seconds=30)
        env.wait_state("elsewhere", "waiting", seconds=30)
        assert retry_until(lambda: _report(env).get("alert_messages") == 1, 10)
        assert "podium: elsewhere is waiting for you" in _messages(env)
        assert retry_until(lambda: b"\x07" in screen.read_bytes(), 10)
        assert _lines(log) == [elsewhere]

        # The terminal loses the focus: the pane on its screen is not looked at any
        # more, and the alert reaches the desktop too.
        _focus(env, client, False)
        env.run("send", "watched", "[nopermission] [work=1] more", check=True)
        env.wait_state("watched", "busy", "waiting", seconds=30)
        env.wait_state("watched", "waiting", seconds=30)
        assert retry_until(lambda: len(_lines(log)) == 2, 10)
        assert _lines(log)[1] == "--app-name=podium -- podium watched is waiting for you"
        assert "podium: watched is waiting for you" in _messages(env)

    # The report counts what reached the person, by kind, and what it spared them.
    assert retry_until(lambda: _report(env).get("alert_desktop") == 2, 10)
    day = _report(env)
    assert (day["alert_bells"], day["alert_messages"], day["alert_desktop"]) == (2, 2, 2)
    assert day["alerts_spared"] == 1 and day["items"] == 4
    table = env.run("report", "attention", check=True).stdout
    assert "ALERTS B/M/D" in table and " 2/2/2 " in table


def test_the_engine_holds_alerts_over_the_configured_rate(podium_env: PodiumEnv) -> None:
    # The limiter itself is tested at unit level (test_cues.py: a burst, the rate, the
    # held rest sent as one); here: `alerts_per_minute` reaches the engine's gate and
    # the gate stands between the sessions and notify-send.
    log = _fake_notify_send(podium_env)
    env = _start(podium_env, notify="notify-send", alerts_per_minute="1", coalesce_s="0")
    names = ["s0", "s1", "s2"]
    for name in names:
        _sim(env, name, "[nopermission] [work=1] go")
    for name in names:
        env.wait_state(name, "waiting", seconds=60)
    assert retry_until(lambda: len(_lines(log)) >= 1, 10)
    # Three items opened within seconds, one alert a minute: the rest wait.
    assert len(_lines(log)) == 1, _lines(log)
