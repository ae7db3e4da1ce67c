"""The sim agent in a podium session: its hooks drive the state through the real spool."""

from __future__ import annotations

from conftest import PodiumEnv
from libtmux.test.retry import retry_until


def test_sim_prompt_runs_busy_then_waiting(engine: PodiumEnv):
    rec = engine.json(
        "new", "--agent", "sim", "--name", "s1", "--prompt", "[nopermission] [work=2] hello"
    )
    engine.wait_state("s1", "busy")
    done = engine.wait_state("s1", "waiting", seconds=30)
    assert done["claude_session_id"], "SessionStart should have taught podium the id"
    events = [line["event"] for line in engine.spool_lines() if line["podium_session"] == rec["id"]]
    assert events[0] == "SessionStart" and "UserPromptSubmit" in events and events[-1] == "Stop"
    transcripts = list(engine.claude_dir.glob("projects/*/*.jsonl"))
    assert [t.stem for t in transcripts] == [done["claude_session_id"]]


def test_sim_permission_dialog_then_answer(engine: PodiumEnv):
    rec = engine.json(
        "new", "--agent", "sim", "--name", "perm", "--prompt", "[permission] [work=2] [tools=1] go"
    )
    engine.wait_state("perm", "permission", seconds=30)
    retry_until(lambda: "Do you want to proceed?" in engine.screen(rec["pane_id"]), 10)
    engine.run("send", "perm", "1", check=True)
    engine.wait_state("perm", "busy", "waiting", seconds=20)
    assert engine.wait_state("perm", "waiting", seconds=30)["state"] == "waiting"


def test_sim_exit_becomes_exited(engine: PodiumEnv):
    engine.json("new", "--agent", "sim", "--name", "bye")
    engine.wait_state("bye", "idle", seconds=20)
    engine.run("send", "bye", "/exit", check=True)
    rec = engine.wait_state("bye", "exited", seconds=20)
    assert rec["state_since"]


def test_sim_limit_becomes_limited(engine: PodiumEnv):
    engine.json("new", "--agent", "sim", "--name", "lim", "--prompt", "[limit] more please")
    engine.wait_state("lim", "limited", seconds=30)


def test_untold_sim_session_keeps_out_of_claude_config_dir(podium_env: PodiumEnv):
    # As on a person's machine: CLAUDE_CONFIG_DIR is their real Claude Code's, and nobody
    # told the sim where to write. Its transcript goes under podium's data dir, and
    # `podium resume` finds it there.
    env = podium_env
    del env.env["PODIUM_SIM_CLAUDE_CONFIG_DIR"]
    assert env.run("engine", "start").returncode == 0
    env.json("new", "--agent", "sim", "--name", "own", "--prompt", "[nopermission] [work=1] hi")
    done = env.wait_state("own", "waiting", seconds=30)
    own = env.data / "sim-claude" / "projects"
    assert [t.stem for t in own.glob("*/*.jsonl")] == [done["claude_session_id"]]
    env.run("send", "own", "/exit", check=True)
    env.wait_state("own", "exited", seconds=30)
    out = env.run("resume", "own")
    assert out.returncode == 0, out.stderr
    env.wait_state("own", "idle", "waiting", seconds=30)
    assert list(env.claude_dir.rglob("*")) == []
