"""Sessions in a real tmux server: new, ls, send, kill, exit codes, vanished panes."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

NASTY = 'it\'s "quoted" $(touch /tmp/pwned) `id` $HOME; rm -rf x && echo \\n'


def test_new_session_lists_with_tmux_ids(engine: PodiumEnv):
    # Called from inside another tmux: that tmux's pane is not the session's.
    caller = {"TMUX": "/tmp/callers-tmux,1,0", "TMUX_PANE": "%999"}
    engine.env.update(caller)
    try:
        rec = engine.json(
            "new", "--name", "sh one", "--agent", "shell", "--cwd", str(engine.workdir)
        )
    finally:
        for name in caller:
            del engine.env[name]
    assert rec["name"] == "sh one" and rec["agent"] == "shell"
    assert rec["pane_id"].startswith("%") and rec["window_id"].startswith("@")
    [listed] = engine.json("ls")
    for key in (
        "id",
        "name",
        "agent",
        "state",
        "state_since",
        "pane_id",
        "pid",
        "cwd",
        "claude_session_id",
    ):
        assert key in listed
    datetime.fromisoformat(listed["state_since"])
    assert listed["cwd"] == str(engine.workdir)
    panes = engine.tmux("list-panes", "-a", "-F", "#{pane_id} #{pane_pid}").stdout.split()
    assert rec["pane_id"] in panes and str(listed["pid"]) in panes
    # The agent pane knows its podium id, and its own tmux pane, not the caller's.
    engine.run(
        "send", "sh one", "echo id=$PODIUM_SESSION_ID tmux=${TMUX%%,*} $TMUX_PANE", check=True
    )
    socket = engine.tmux("display-message", "-p", "#{socket_path}").stdout.strip()
    shown = f"id={rec['id']} tmux={socket} {rec['pane_id']}"
    assert retry_until(lambda: shown in engine.screen(rec["pane_id"]), 10, raises=False), (
        shown,
        engine.screen(rec["pane_id"]),
    )


def test_send_arrives_byte_for_byte(engine: PodiumEnv):
    out_file = engine.workdir / "got.txt"
    rec = engine.json(
        "new",
        "--name",
        "cat",
        "--agent",
        "shell",
        "--cwd",
        str(engine.workdir),
        "--cmd",
        f"tee {out_file}",
    )
    retry_until(lambda: engine.session("cat")["state"] == "idle", 10)
    engine.run("send", "cat", NASTY, check=True)
    retry_until(lambda: out_file.exists() and out_file.read_text() == NASTY + "\n", 10)
    assert not (engine.root / "pwned").exists()
    engine.run("send", "cat", "-", input="line one\nline two", check=True)
    retry_until(lambda: out_file.read_text().endswith("line one\nline two\n"), 10)
    # tmux takes an argument ending in ';' for a command separator unless escaped.
    for text in ("ends with a semicolon;", "a backslash too\\;", ";"):
        engine.run("send", "cat", text, check=True)
        retry_until(lambda t=text: out_file.read_text().endswith(t + "\n"), 10)
    assert rec["pane_id"]


def test_names_and_argv_ending_in_a_semicolon_stay_whole(engine: PodiumEnv):
    rec = engine.json(
        "new",
        "--name",
        "odd;",
        "--agent",
        "shell",
        "--cwd",
        str(engine.workdir),
        "--cmd",
        "tee made;",
    )
    assert rec["name"] == "odd;"
    window = engine.tmux("display-message", "-p", "-t", rec["pane_id"], "#{window_name}")
    assert window.stdout.strip() == "odd;"
    engine.run("send", "odd;", "hello", check=True)
    retry_until(lambda: (engine.workdir / "made;").exists(), 10)


def test_exit_code_is_kept(engine: PodiumEnv):
    engine.json("new", "--name", "short", "--agent", "shell", "--cmd", "sh -c 'exit 7'")
    assert engine.wait_state("short", "exited", seconds=15)["state_source"] == "tmux"
    # tmux 3.3a can lose a dead pane's status (tmux PR 4841): when it reports
    # one, it must be the right one; when it never does, the code stays null.
    known = retry_until(lambda: engine.session("short")["exit_code"] is not None, 15, raises=False)
    assert engine.session("short")["exit_code"] == (7 if known else None)
    out = engine.run("send", "short", "hello")
    said = "has exited (exit code 7)" if known else "has exited"
    assert out.returncode == 1 and said in out.stderr


def test_a_program_that_cannot_start_is_refused_not_started(engine: PodiumEnv):
    # Not "started" and a dead pane a moment later: the reason and the fix, exit 1.
    out = engine.run("new", "--name", "bad", "--agent", "shell", "--cmd", "no-such-program-x")
    assert out.returncode == 1, out
    assert "'no-such-program-x' not found on PATH; check --cmd" in out.stderr
    assert out.stderr.count("\n") == 1
    tool = engine.workdir / "tool.sh"
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o644)
    out = engine.run("new", "--name", "bad", "--agent", "shell", "--cmd", "./tool.sh")
    assert out.returncode == 1 and "is not executable (chmod +x it)" in out.stderr, out
    assert engine.json("ls") == []  # nothing left behind
    tool.chmod(0o755)  # from the session's directory, as the launcher runs it
    assert engine.json("new", "--name", "good", "--agent", "shell", "--cmd", "./tool.sh")["pane_id"]


def test_kill_removes_the_pane_and_frees_the_name(engine: PodiumEnv):
    rec = engine.json("new", "--name", "victim", "--agent", "shell")
    out = engine.run("kill", "victim")
    assert out.returncode == 0, out.stderr
    assert engine.json("ls") == []
    panes = engine.tmux("list-panes", "-a", "-F", "#{pane_id}").stdout.split()
    assert rec["pane_id"] not in panes
    assert engine.json("new", "--name", "victim", "--agent", "shell")["name"] == "victim"


@pytest.mark.parametrize(
    "command", [("send", "ghost", "hi"), ("kill", "ghost"), ("attach", "ghost")]
)
def test_unknown_names_get_one_line(engine: PodiumEnv, command: tuple[str, ...]):
    out = engine.run(*command)
    assert out.returncode == 1
    assert out.stderr == "podium: no session named 'ghost'\n"


def test_duplicate_name_and_bad_cwd(engine: PodiumEnv):
    engine.json("new", "--name", "dup", "--agent", "shell")
    out = engine.run("new", "--name", "dup", "--agent", "shell")
    assert out.returncode == 1 and "already exists" in out.stderr
    out = engine.run("new", "--agent", "shell", "--cwd", str(engine.root / "nope"))
    assert out.returncode != 0 and "nope" in out.stderr
    out = engine.run("new", "--agent", "nonsense")
    assert out.returncode == 2  # bad usage


def test_pane_killed_outside_podium_becomes_lost(engine: PodiumEnv):
    rec = engine.json("new", "--name", "gone", "--agent", "shell")
    engine.tmux("kill-pane", "-t", rec["pane_id"])
    assert engine.wait_state("gone", "lost", seconds=15)["state"] == "lost"


def test_tmux_server_killed_under_the_engine(engine: PodiumEnv):
    engine.json("new", "--name", "a", "--agent", "shell")
    engine.tmux("kill-server")
    engine.wait_state("a", "lost", seconds=15)
    # The engine lives on and starts a new server for the next session.
    rec = engine.json("new", "--name", "b", "--agent", "shell")
    assert engine.wait_state("b", "idle", seconds=15)["pane_id"] == rec["pane_id"]


def test_restarted_engine_keeps_the_registry(engine: PodiumEnv):
    engine.json("new", "--name", "keep", "--agent", "shell")
    engine.wait_state("keep", "idle")
    engine.run("engine", "stop", check=True)
    rec = engine.session("keep")  # starts a new engine on demand
    assert rec["state"] == "idle"
    engine.run("send", "keep", "exit 3", check=True)
    # The new engine still follows the pane it did not start.
    assert engine.wait_state("keep", "exited")["state_source"] == "tmux"
