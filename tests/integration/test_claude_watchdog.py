"""What people do that fires no hook, with the real Claude Code CLI: Esc during a turn,
Esc or No at a permission dialog, the workspace-trust dialog, a retry loop, /clear.

Each must leave the state the screen shows, corrected by the engine's watchdog
(source `watchdog`) where no hook tells. The CLI runs in its default mode (auto)
and in manual permission mode (`--permission-mode default`). How fast the
corrections come is measured by `bench/state_latency.py --watchdog`, not here.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

MODES = {"auto": (), "manual": ("--permission-mode", "default")}


def _claude(env: PodiumEnv, name: str, mode: str, *, prompt: str | None = None, cwd=None) -> dict:
    args = ["new", "--agent", "claude", "--name", name, "--cwd", str(cwd or env.workdir)]
    args += ["--cmd", " ".join([env.env["PODIUM_CLAUDE_BIN"], *MODES[mode]])]
    if prompt is not None:
        args += ["--prompt", prompt]
    return env.json(*args)


def _keys(env: PodiumEnv, pane: str, *keys: str) -> None:
    env.tmux("send-keys", "-t", pane, *keys)


def _shows(env: PodiumEnv, pane: str, text: str, seconds: float = 60) -> None:
    retry_until(lambda: text in env.screen(pane, history=0), seconds)


def _press_until(env: PodiumEnv, pane: str, key: str, done) -> None:
    """Press `key` until `done(screen)`: a dialog ignores keys for a moment after it is
    drawn, and a key pressed twice may do more than once (Esc Esc opens the rewind menu)."""
    for _ in range(10):
        _keys(env, pane, key)
        if retry_until(lambda: done(env.screen(pane, history=0)), 1.5, raises=False):
            return
    raise AssertionError(f"{key} never took: {env.screen(pane, history=0)}")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_esc_during_a_turn_leaves_busy(claude_podium: PodiumEnv, mode: str):
    rec = _claude(claude_podium, "esc", mode)
    claude_podium.wait_state("esc", "idle", seconds=60)
    claude_podium.run("send", "esc", "SLOW 60", check=True)
    claude_podium.wait_state("esc", "busy", seconds=30)
    _shows(claude_podium, rec["pane_id"], "esc to interrupt")
    _press_until(claude_podium, rec["pane_id"], "Escape", lambda s: "esc to interrupt" not in s)
    done = claude_podium.wait_state("esc", "idle", "waiting", seconds=10)
    # The person stopped it at the pane: nothing waits for them, and the screen said so.
    assert (done["state"], done["state_source"]) == ("idle", "watchdog")
    assert done["attention"] is None


def test_esc_three_times_in_a_turn_leaves_busy(claude_podium: PodiumEnv):
    """People press Esc more than once: the first stops the turn and puts the prompt back
    in the box, two more clear it. No hook fires and no "Interrupted" is drawn."""
    rec = _claude(claude_podium, "esc3", "auto")
    pane = rec["pane_id"]
    claude_podium.wait_state("esc3", "idle", seconds=60)
    claude_podium.run("send", "esc3", "SLOW 60", check=True)
    claude_podium.wait_state("esc3", "busy", seconds=30)
    _shows(claude_podium, pane, "esc to interrupt")
    _press_until(claude_podium, pane, "Escape", lambda s: "esc to interrupt" not in s)
    # Under load Claude Code may take two of the presses above as Esc Esc: cleared already.
    if "SLOW 60" in claude_podium.screen(pane, history=0):
        _press_pair_until(claude_podium, pane, lambda s: "SLOW 60" not in s)  # Esc Esc
    done = claude_podium.wait_state("esc3", "idle", "waiting", seconds=10)
    assert (done["state"], done["state_source"]) == ("idle", "watchdog")
    assert done["attention"] is None


def test_text_sent_into_the_rewind_menu_leaves_busy(claude_podium: PodiumEnv):
    """Esc Esc at the prompt opens the rewind menu; text sent then goes nowhere."""
    rec = _claude(claude_podium, "rew", "auto")
    pane = rec["pane_id"]
    claude_podium.wait_state("rew", "idle", seconds=60)
    _press_pair_until(claude_podium, pane, lambda s: "Rewind" in s)
    claude_podium.run("send", "rew", "hello", check=True)  # podium counts it as a turn
    done = claude_podium.wait_state("rew", "idle", seconds=10)
    assert done["state_source"] == "watchdog" and done["attention"] is None
    assert "Rewind" in claude_podium.screen(pane, history=0)


def _press_pair_until(env: PodiumEnv, pane: str, done) -> None:
    """Esc twice at once until `done(screen)`: Claude Code reads a pair as a double Esc."""
    for _ in range(10):
        _keys(env, pane, "Escape", "Escape")
        if retry_until(lambda: done(env.screen(pane, history=0)), 1.5, raises=False):
            return
    raise AssertionError(f"Esc Esc never took: {env.screen(pane, history=0)}")


@pytest.mark.parametrize("key", ["Escape", "3"], ids=["esc", "no"])
def test_esc_or_no_at_a_permission_dialog_leaves_permission(claude_podium: PodiumEnv, key: str):
    target = claude_podium.workdir / f"dialog-{key}.txt"
    rec = _claude(claude_podium, "ask", "manual", prompt=f"WRITE_FILE {target}")
    claude_podium.wait_state("ask", "permission", seconds=60)
    _shows(claude_podium, rec["pane_id"], "1. Yes")
    _press_until(claude_podium, rec["pane_id"], key, lambda s: "1. Yes" not in s)
    done = claude_podium.wait_state("ask", "idle", "waiting", "busy", seconds=10)
    assert (done["state"], done["state_source"]) == ("idle", "watchdog")
    assert done["attention"] is None  # its permission item closed: answered at the pane
    assert not target.exists()


def test_the_trust_dialog_is_permission_until_accepted(claude_podium: PodiumEnv):
    fresh = claude_podium.root / "never-trusted"  # not under the trusted work dir
    fresh.mkdir()
    rec = _claude(claude_podium, "trust", "auto", cwd=fresh)
    asking = claude_podium.wait_state("trust", "permission", seconds=60)
    # Read from the screen at once: no hook runs before the folder is trusted.
    assert asking["state_source"] == "watchdog"
    _shows(claude_podium, rec["pane_id"], "Yes, I trust this folder")
    _press_until(claude_podium, rec["pane_id"], "Down", lambda s: "❯ Yes, I trust" in s)
    _press_until(claude_podium, rec["pane_id"], "Enter", lambda s: "trust this folder" not in s)
    # SessionStart fires once the folder is trusted, and resets the state.
    done = claude_podium.wait_state("trust", "idle", seconds=30)
    assert done["state_source"] == "hook"


def test_a_retry_loop_is_retrying_then_limited(make_claude_podium):
    env = make_claude_podium(CLAUDE_CODE_MAX_RETRIES="3")
    _claude(env, "retry", "auto", prompt="RETRY 429")
    retrying = env.wait_state("retry", "retrying", seconds=60)
    assert retrying["state_source"] == "watchdog"
    # No input is needed while it retries: no attention item.
    assert retrying["attention"] is None
    limited = env.wait_state("retry", "limited", seconds=60)
    assert limited["state_source"] == "hook" and limited["attention"]["kind"] == "limited"


def test_a_retry_that_succeeds_goes_back_to_work(claude_podium: PodiumEnv):
    _claude(claude_podium, "flaky", "auto", prompt="RETRY 529 4")
    claude_podium.wait_state("flaky", "retrying", seconds=60)
    done = claude_podium.wait_state("flaky", "waiting", seconds=60)
    assert done["state_source"] == "hook"


def test_clear_never_passes_through_exited(claude_podium: PodiumEnv):
    _claude(claude_podium, "clr", "auto", prompt="hello")
    claude_podium.wait_state("clr", "waiting", seconds=60)
    claude_podium.run("send", "clr", "/clear", check=True)
    retry_until(lambda: claude_podium.session("clr")["state_source"] == "hook", 30)
    retry_until(lambda: "clear" in _last_events(claude_podium, "SessionStart"), 30)
    done = claude_podium.wait_state("clr", "idle", seconds=30)
    # An exit would have stamped the session's end; /clear is no end.
    assert done["ended_at"] is None and done["exit_code"] is None


def _last_events(env: PodiumEnv, event: str) -> list[str]:
    return [
        x["payload"].get("source", "")
        for x in env.spool_lines()
        if x["event"] == event and isinstance(x.get("payload"), dict)
    ]


def _stops(env: PodiumEnv, session_id: str) -> list[float]:
    """When each of the session's Stop hooks fired (epoch seconds)."""
    return [
        float(x["at"])
        for x in env.spool_lines()
        if x.get("podium_session") == session_id and x.get("event") == "Stop"
    ]


def test_a_prompt_sent_after_the_last_tool_runs_next_and_stays_busy(claude_podium: PodiumEnv):
    """Claude Code fires UserPromptSubmit at once, then the turn's Stop, then runs the
    prompt as a turn no hook announces: that Stop is not the end of the work."""
    rec = _claude(claude_podium, "q", "auto")
    claude_podium.wait_state("q", "idle", seconds=60)
    claude_podium.run("send", "q", "SLOW 5 first", check=True)
    claude_podium.wait_state("q", "busy", seconds=30)
    _shows(claude_podium, rec["pane_id"], "esc to interrupt")
    claude_podium.run("send", "q", "SLOW 4 REPLY second done", check=True)
    retry_until(lambda: len(_stops(claude_podium, rec["id"])) == 2, 40)
    done = claude_podium.wait_state("q", "waiting", seconds=10)
    # Waiting since the second Stop, not the first: busy all the while between.
    first, second = _stops(claude_podium, rec["id"])
    since = datetime.fromisoformat(done["state_since"]).timestamp()
    assert second - 0.01 <= since and done["state_source"] == "hook", (first, second, since)
    assert "second done" in claude_podium.screen(rec["pane_id"], history=0)


def test_a_prompt_sent_during_a_tool_goes_with_its_result(claude_podium: PodiumEnv):
    """The same prompt sent while a tool runs joins that turn: its one Stop ends it."""
    rec = _claude(claude_podium, "t", "auto")
    claude_podium.wait_state("t", "idle", seconds=60)
    claude_podium.run("send", "t", "RUN_BASH sleep 5", check=True)
    _shows(claude_podium, rec["pane_id"], "sleep 5")
    claude_podium.run("send", "t", "and then stop", check=True)
    done = claude_podium.wait_state("t", "waiting", seconds=30)
    assert len(_stops(claude_podium, rec["id"])) == 1 and done["state_source"] == "hook"
