"""Attention with the real Claude Code CLI in tmux: items, `next`, focus, limits, resume.

Each session here is a real `claude` in a podium pane, answered by the loopback
Messages API (`tests/fakeapi/`).
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

from tui.format import clock


def _claude(env: PodiumEnv, name: str, *flags: str, prompt: str | None = None) -> dict:
    args = ["new", "--agent", "claude", "--name", name, "--cwd", str(env.workdir)]
    if flags:
        args += ["--cmd", " ".join([env.env["PODIUM_CLAUDE_BIN"], *flags])]
    if prompt is not None:
        args += ["--prompt", prompt]
    return env.json(*args)


def _names(env: PodiumEnv) -> list[str]:
    return [s["name"] for s in env.json("ls")]


def _items(env: PodiumEnv) -> dict[str, dict[str, Any]]:
    return {s["name"]: s["attention"] for s in env.json("ls") if s["attention"]}


def _active_pane(env: PodiumEnv) -> str:
    """The pane tmux shows for podium's session (current window, active pane)."""
    return env.tmux("display-message", "-p", "-t", "=podium:", "#{pane_id}").stdout.strip()


def test_next_takes_the_oldest_of_three_waiting(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    panes = {}
    for name in ("first", "second", "third"):
        panes[name] = _claude(env, name, prompt=f"hello {name}")["pane_id"]
        env.wait_state(name, "waiting", seconds=90)
    env.run("new", "--agent", "shell", "--name", "calm", check=True)
    # Waiting sessions first, oldest item first; the idle shell last.
    assert _names(env) == ["first", "second", "third", "calm"]
    items = _items(env)
    assert items["first"]["opened_at"] < items["second"]["opened_at"] < items["third"]["opened_at"]
    assert all(item["kind"] == "waiting" and item["waited_s"] >= 0 for item in items.values())

    for name in ("first", "second", "third"):
        out = env.run("next", check=True)
        assert out.stdout.split()[0] == name, out.stdout
        assert _active_pane(env) == panes[name]
        assert env.session(name)["state"] == "seen"  # acknowledged by focus: still your move
    out = env.run("next")
    assert out.returncode == 0 and out.stdout.strip() == "nobody is waiting for you"
    assert env.json("next") is None

    report = env.json("report", "attention")
    today = report["days"][-1]
    assert today["items"] == 3 and today["responses"] == 3
    assert today["response_p50_s"] is not None and today["permission_prompts"] == 0


def test_a_person_switching_to_a_pane_acknowledges_it(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    _claude(env, "shown")
    hidden = _claude(env, "hidden")
    env.wait_state("shown", "idle", seconds=90)
    env.wait_state("hidden", "idle", seconds=90)
    # A real client attached to podium's tmux server, as a person's terminal is;
    # it shows the first window ("shown").
    client = subprocess.Popen(
        ["script", "-qfc", f"tmux -L {env.socket} attach -t =podium", "/dev/null"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert retry_until(lambda: env.tmux("list-clients").stdout.strip() != "", 10)
        for name in ("shown", "hidden"):
            env.run("send", name, "hello", check=True)
        env.wait_state("shown", "waiting", seconds=90)
        env.wait_state("hidden", "waiting", seconds=90)
        # On screen all along, but nobody pressed a key: the person may be away.
        sweeps = env.json("engine", "status")["watch"]["sweeps"]
        assert env.wait_for(lambda: env.json("engine", "status")["watch"]["sweeps"] > sweeps + 1)
        assert env.session("shown")["state"] == "waiting"
        # The person switches to the other window: that one is seen.
        env.tmux("select-window", "-t", hidden["pane_id"])
        env.wait_state("hidden", "seen", seconds=15)
        assert env.session("shown")["state"] == "waiting"
        assert env.session("shown")["attention"] is not None
    finally:
        client.terminate()
        client.wait(10)


def test_permission_item_is_counted_and_stays_until_answered(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    target = env.workdir / "asked.txt"
    _claude(env, "asks", "--permission-mode", "default", prompt=f"WRITE_FILE {target}")
    rec = env.wait_state("asks", "permission", seconds=90)
    assert rec["attention"]["kind"] == "permission"
    env.run("send", "asks", "1", "--no-enter", check=True)  # the human answers the dialog
    env.wait_state("asks", "waiting", seconds=60)
    assert target.exists()
    report = env.json("report", "attention")["days"][-1]
    assert report["permission_prompts"] == 1
    assert report["items"] == 2  # the dialog, then the finished turn


def test_limited_on_a_429_carries_the_reset_time(make_claude_podium: Any) -> None:
    env = make_claude_podium(auth="gateway")
    _claude(env, "capped")
    env.wait_state("capped", "idle", seconds=90)
    resets = (int(time.time()) // 3600 + 3) * 3600
    env.run("send", "capped", f"RATE_LIMIT five_hour {resets}", check=True)
    rec = env.wait_state("capped", "limited", seconds=60)
    assert rec["state_source"] == "hook"
    assert datetime.fromisoformat(rec["limit_resets_at"]) == datetime.fromtimestamp(resets, UTC)
    assert rec["attention"]["kind"] == "limited"
    listing = env.run("ls").stdout
    # Local and short, as every time the CLI shows: a weekday when it is not today.
    assert f"limited (resets {clock(datetime.fromtimestamp(resets, UTC))})" in listing


def test_killed_pane_becomes_lost(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    rec = _claude(env, "doomed", prompt="hello")
    env.wait_state("doomed", "waiting", seconds=90)
    env.tmux("kill-pane", "-t", rec["pane_id"])
    lost = env.wait_state("doomed", "lost", seconds=15)
    assert lost["attention"] is None  # its item closed as ended, not left open
    assert env.json("next") is None
    out = env.run("send", "doomed", "hello")
    assert out.returncode == 1 and "lost" in out.stderr


def test_restarted_engine_readopts_live_panes(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    keep = _claude(env, "keep")
    gone = _claude(env, "gone")
    env.wait_state("keep", "idle", seconds=90)
    env.wait_state("gone", "idle", seconds=90)
    env.run("engine", "stop", check=True)
    # While no engine runs: a turn in one pane (its hooks spool), the other pane dies.
    env.tmux("send-keys", "-t", keep["pane_id"], "-l", "hello while you were out")
    assert retry_until(lambda: "you were out" in env.screen(keep["pane_id"]), 10)
    env.tmux("send-keys", "-t", keep["pane_id"], "Enter")
    env.tmux("kill-pane", "-t", gone["pane_id"])
    assert retry_until(
        lambda: any(x["event"] == "Stop" for x in env.spool_lines()), 60, raises=False
    )
    env.run("engine", "start", check=True)
    rec = env.wait_state("keep", "waiting", seconds=15)
    assert rec["pane_id"] == keep["pane_id"]
    assert env.wait_state("gone", "lost", seconds=15)["state"] == "lost"
    env.run("send", "keep", "and again", check=True)
    env.wait_state("keep", "busy", "waiting", seconds=30)


def test_resume_relaunches_claude_with_its_session(claude_podium: PodiumEnv) -> None:
    env = claude_podium
    first = _claude(env, "memo", prompt="remember PINEAPPLE")
    done = env.wait_state("memo", "waiting", seconds=90)
    claude_id = done["claude_session_id"]
    env.run("send", "memo", "/exit", check=True)
    env.wait_state("memo", "exited", seconds=60)

    out = env.run("resume", "memo", check=True)
    assert claude_id in out.stdout
    resumed = env.session("memo")
    assert resumed["pane_id"] == first["pane_id"]  # its own pane, started again in place
    assert f"--resume={claude_id}" in resumed["argv"]
    env.wait_state("memo", "idle", seconds=90)
    starts = [
        x["payload"]
        for x in env.spool_lines()
        if x["event"] == "SessionStart" and x["podium_session"] == first["id"]
    ]
    assert starts[-1]["source"] == "resume"
    env.run("send", "memo", "what did I ask you to remember?", check=True)
    env.wait_state("memo", "waiting", seconds=90)
    # The resumed conversation carries the first turn to the API.
    last = env.api.main_requests()[-1]
    assert "PINEAPPLE" in json.dumps(last.body)
    # A running session is not resumed twice.
    again = env.run("resume", "memo")
    assert again.returncode == 1 and "still running" in again.stderr


@pytest.mark.parametrize("name", ["with space", "semi;colon $(x) `y`"])
def test_odd_names_are_handled(engine: PodiumEnv, name: str) -> None:
    engine.run("new", "--agent", "sim", "--name", name, "--prompt", "hi", check=True)
    engine.wait_state(name, "waiting")
    out = engine.run("next", check=True)
    assert out.stdout.startswith(name)
    assert engine.session(name)["state"] == "seen"
    assert engine.run("kill", name).returncode == 0


def _sim(env: PodiumEnv, name: str, prompt: str) -> str:
    return env.json("new", "--agent", "sim", "--name", name, "--prompt", prompt)["pane_id"]


def test_next_goes_to_a_permission_before_an_older_waiting(engine: PodiumEnv) -> None:
    env = engine
    # The sim repeats a pending dialog as a Notification after a while: not here.
    env.env["PODIUM_SIM_PERMISSION_NOTIFY_S"] = "600"
    _sim(env, "turn", "[nopermission] [work=1] hi")
    env.wait_state("turn", "waiting", seconds=30)
    env.run("new", "--agent", "shell", "--name", "calm", check=True)
    asks = _sim(env, "asks", "[permission] [work=1] [tools=1] go")
    env.wait_state("asks", "permission", seconds=30)
    items = _items(env)
    assert items["turn"]["opened_at"] < items["asks"]["opened_at"]
    # Blocked mid-task comes before a finished turn that has waited longer.
    assert _names(env) == ["asks", "turn", "calm"]
    out = env.run("next", check=True)
    assert out.stdout.split()[:2] == ["asks", "permission"]
    assert _active_pane(env) == asks
    # Seen, not answered: the dialog is still there, and still first in the list.
    assert env.session("asks")["state"] == "permission"
    assert _names(env) == ["asks", "turn", "calm"]
    assert env.run("next", check=True).stdout.split()[0] == "turn"
    assert env.json("next") is None


def test_a_seen_turn_shows_seen_and_keeps_its_place(engine: PodiumEnv) -> None:
    env = engine
    _sim(env, "older", "[nopermission] [work=1] one")
    env.wait_state("older", "waiting", seconds=30)
    _sim(env, "newer", "[nopermission] [work=1] two")
    env.wait_state("newer", "waiting", seconds=30)
    _sim(env, "worker", "[nopermission] [work=900] three")
    env.wait_state("worker", "busy", seconds=30)
    assert _names(env) == ["older", "newer", "worker"]
    ended = env.session("older")["state_since"]

    assert env.run("next", check=True).stdout.split()[0] == "older"
    rec = env.wait_state("older", "seen", seconds=10)
    # Still the person's move, since its turn ended; in its place, before the newer one.
    assert rec["attention"] is None and rec["state_since"] == ended
    assert rec["state_source"] == "user"
    assert _names(env) == ["older", "newer", "worker"]
    # STATE is the fourth column: after #, NAME and AGENT.
    assert [line.split()[3] for line in env.run("ls").stdout.splitlines()[1:]] == [
        "seen",
        "waiting",
        "busy",
    ]
    counts = ["show-options", "-gv", "@podium_counts"]
    assert retry_until(lambda: "◇ 1 seen" in env.tmux(*counts).stdout, 10)
    assert "◆ 1 waiting" in env.tmux(*counts).stdout
    # `next` skips it: its item is closed.
    assert env.run("next", check=True).stdout.split()[0] == "newer"
    assert env.json("next") is None
    # Answering it moves it on, as for a waiting one.
    env.run("send", "older", "[nopermission] [work=1] and then", check=True)
    env.wait_state("older", "busy", "waiting", seconds=30)
    assert env.wait_state("older", "waiting", seconds=30)["attention"] is not None
