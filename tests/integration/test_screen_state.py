"""State from screens and processes, with real programs in real tmux panes.

The real Claude Code CLI started with `--no-hooks` (no podium `--settings`
file, so no hook ever arrives) must still go busy → waiting and show its
permission dialog as `permission`, from its screen alone. A plain shell goes
busy while a command runs and idle at its prompt. And a quiet engine must not
capture screens nor sweep at full pace.
"""

from __future__ import annotations

from typing import Any

from conftest import PodiumEnv
from libtmux.test.retry import retry_until

# A bash without rc files or history (what tests type stays out of ~/.bash_history).
BASH = "env HISTFILE= bash --norc --noprofile"


def _new(env: PodiumEnv, name: str, *args: str) -> dict[str, Any]:
    return env.json("new", "--name", name, "--cwd", str(env.workdir), *args)


def test_claude_without_hooks_is_read_from_its_screen(claude_podium: PodiumEnv):
    env = claude_podium
    claude = env.env["PODIUM_CLAUDE_BIN"]
    rec = _new(env, "bare", "--agent", "claude", "--no-hooks", "--cmd",
               f"{claude} --permission-mode default")  # fmt: skip
    assert not any(a.startswith("--settings") for a in rec["argv"]) and rec["settings_path"] is None
    started = env.wait_state("bare", "idle", seconds=60)
    assert started["state_source"] == "screen"

    env.type_in(rec["pane_id"], "SLOW 6 hello")  # a person typing, not `podium send`
    busy = env.wait_state("bare", "busy", seconds=30)
    assert busy["state_source"] == "screen"
    done = env.wait_state("bare", "waiting", seconds=60)
    assert done["state_source"] == "screen"
    assert "Hello from the fake API" in env.screen(rec["pane_id"])

    target = env.workdir / "made-without-hooks.txt"
    env.type_in(rec["pane_id"], f"WRITE_FILE {target}")
    asking = env.wait_state("bare", "permission", seconds=60)
    assert asking["state_source"] == "screen"
    assert "Do you want to create" in env.screen(rec["pane_id"])
    env.run("send", "bare", "1", "--no-enter", check=True)
    env.wait_state("bare", "waiting", seconds=60)
    assert target.exists()
    # No hook ever spoke for it: everything above came from the screen.
    assert not [x for x in env.spool_lines() if x["podium_session"] == rec["id"]]


def test_shell_is_busy_while_a_command_runs(engine: PodiumEnv):
    engine.env["PS1"] = "podium-test$ "
    rec = _new(engine, "sh", "--agent", "shell", "--cmd", BASH)
    idle = engine.wait_state("sh", "idle", seconds=20)
    assert idle["state_source"] == "screen"  # its prompt
    engine.type_in(rec["pane_id"], "sleep 5")  # typed by a person: podium must notice
    busy = engine.wait_state("sh", "busy", seconds=10)
    assert busy["state_source"] == "process"  # `sleep` is a child of the shell
    back = engine.wait_state("sh", "idle", seconds=20)
    assert back["state_source"] == "screen"
    assert "podium-test$" in engine.screen(rec["pane_id"])


def test_default_shell_with_an_unknown_prompt_still_works(engine: PodiumEnv):
    """Whatever the user's shell and prompt, process activity tells busy from idle."""
    engine.env["PS1"] = "λ"  # no prompt character + space: the screen rule cannot match
    rec = _new(engine, "plain", "--agent", "shell", "--cmd", BASH)
    engine.wait_state("plain", "idle", seconds=20)
    engine.type_in(rec["pane_id"], "sleep 5")
    assert engine.wait_state("plain", "busy", seconds=10)["state_source"] == "process"
    assert engine.wait_state("plain", "idle", seconds=20)["state_source"] == "process"


def test_sim_without_hooks(engine: PodiumEnv):
    rec = _new(engine, "quiet-sim", "--agent", "sim", "--no-hooks")
    assert not any(a.startswith("--settings") for a in rec["argv"])
    engine.wait_state("quiet-sim", "idle", seconds=20)
    engine.type_in(rec["pane_id"], "[nopermission] [work=60] hello")
    assert engine.wait_state("quiet-sim", "busy", seconds=10)["state_source"] == "screen"
    assert engine.wait_state("quiet-sim", "waiting", seconds=30)["state_source"] == "screen"
    engine.type_in(rec["pane_id"], "[permission] [work=10] [tools=1] go")
    assert engine.wait_state("quiet-sim", "permission", seconds=20)["state_source"] == "screen"


def test_quiet_sessions_cost_no_captures_and_slow_the_sweep(engine: PodiumEnv):
    engine.env["PS1"] = "podium-test$ "
    for n in range(3):
        _new(engine, f"q{n}", "--agent", "shell", "--cmd", BASH)
    for n in range(3):
        engine.wait_state(f"q{n}", "idle", seconds=20)

    def watch() -> dict[str, Any]:
        return engine.json("engine", "status")["watch"]

    # Quiet: the gap grows from sweep_interval (1 s) to sweep_max_interval (1.5 s).
    assert retry_until(lambda: watch()["sweep_interval"] >= 1.5, 30, raises=False), watch()
    before = watch()
    assert retry_until(lambda: watch()["sweeps"] >= before["sweeps"] + 2, 30, raises=False)
    after = watch()
    assert after["screens_captured"] == before["screens_captured"], (before, after)
    assert after["last_sweep_captures"] == 0
    # A command through podium wakes the sweep at once, however long the gap has grown.
    engine.run("send", "q0", "sleep 6", check=True)
    assert retry_until(lambda: watch()["sweeps"] > after["sweeps"], 2, raises=False)
    engine.wait_state("q0", "busy", seconds=10)
