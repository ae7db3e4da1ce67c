"""Agent profiles: argv for each agent, never a shell string."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from collectors.settings import AgentSettings
from sessions.agents import AgentError, build_launch, claude_session_id
from sessions.claude_settings import PODIUM_HOOK_EVENTS, hook_settings


def test_sim_gets_settings_and_prompt_after_double_dash(tmp_path: Path):
    plan = build_launch(
        "sim", AgentSettings(), prompt="-rf $(whoami)", settings_file=tmp_path / "s.json"
    )
    assert plan.argv[:3] == [sys.executable, "-m", "sessions.sim"]
    assert plan.argv[3:] == [f"--settings={tmp_path / 's.json'}", "--", "-rf $(whoami)"]


SPOOFED = ["--dangerously-skip-permissions", "x; rm -rf ~", "", "1234", "../../etc/passwd"]


@pytest.mark.parametrize("spoofed", SPOOFED)
def test_a_resume_id_that_is_not_a_uuid_never_reaches_argv(spoofed: str):
    assert claude_session_id(spoofed) is None
    if not spoofed:
        return
    with pytest.raises(AgentError, match="not a Claude session id") as err:
        build_launch("sim", AgentSettings(), resume_id=spoofed)
    assert "\n" not in str(err.value)


def test_a_uuid_resumes_as_one_argument():
    sid = "5764008a-f82f-46dd-80a9-0507eb7b5e25"
    assert claude_session_id(sid) == sid
    plan = build_launch("sim", AgentSettings(), resume_id=sid, prompt="go on")
    assert plan.argv[3:] == [f"--resume={sid}", "--", "go on"]


def test_claude_missing_binary_is_a_clear_error():
    with pytest.raises(AgentError, match=r"agents\.claude_bin"):
        build_launch(
            "claude", AgentSettings(claude_bin="no-such-claude-bin"), path_env="/nonexistent"
        )


def test_cmd_is_split_not_shelled():
    plan = build_launch("shell", AgentSettings(), command="python3 -c 'print(1); print(2)'")
    assert plan.argv == ["python3", "-c", "print(1); print(2)"]


def test_shell_types_its_prompt_after_start():
    plan = build_launch("shell", AgentSettings(shell="/bin/sh"), prompt="ls")
    assert plan.argv == ["/bin/sh"] and plan.type_after_start == "ls"


def test_unparseable_cmd():
    with pytest.raises(AgentError, match="cannot parse"):
        build_launch("shell", AgentSettings(), command="echo 'unterminated")


def test_hook_settings_cover_the_events():
    settings = hook_settings(["/opt/my podium/bin/podium"], timeout=10)
    assert set(settings["hooks"]) == set(PODIUM_HOOK_EVENTS)
    command = settings["hooks"]["Stop"][0]["hooks"][0]["command"]
    assert command == "'/opt/my podium/bin/podium' hook Stop"
    assert settings["statusLine"]["command"].endswith("statusline")


def test_statusline_chain_is_one_quoted_argument():
    import shlex

    chain = "ccusage statusline | head -1; echo \"$HOME\" 'x'"
    settings = hook_settings(["/opt/my podium/bin/podium"], timeout=10, chain=chain)
    argv = shlex.split(settings["statusLine"]["command"])
    assert argv == ["/opt/my podium/bin/podium", "statusline", "--chain", chain]


def test_chain_auto_finds_the_users_own_statusline(tmp_path: Path):
    import json

    from sessions.claude_settings import statusline_chain

    config, project = tmp_path / "claude", tmp_path / "proj"
    (project / ".claude").mkdir(parents=True)
    config.mkdir()
    env = {"CLAUDE_CONFIG_DIR": str(config), "HOME": str(tmp_path)}
    assert statusline_chain("auto", project, env) is None
    (config / "settings.json").write_text(
        json.dumps({"statusLine": {"type": "command", "command": "~/bin/my-status"}})
    )
    assert statusline_chain("auto", project, env) == "~/bin/my-status"
    # The project's own settings rank above the user's, as in Claude Code.
    (project / ".claude" / "settings.json").write_text(
        json.dumps({"statusLine": {"command": "project-status"}})
    )
    assert statusline_chain("auto", project, env) == "project-status"
    # podium's own statusline is never chained to itself.
    (project / ".claude" / "settings.local.json").write_text(
        json.dumps({"statusLine": {"command": "/x/podium statusline"}})
    )
    assert statusline_chain("auto", project, env) is None
    assert statusline_chain("", project, env) is None
    assert statusline_chain("echo hi", project, env) == "echo hi"
    # Without CLAUDE_CONFIG_DIR: ~/.claude of the session's HOME.
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(
        json.dumps({"statusLine": {"command": "home-status"}})
    )
    assert statusline_chain("auto", tmp_path / "elsewhere", {"HOME": str(tmp_path)}) == (
        "home-status"
    )


def test_chain_auto_passes_over_a_fifo_in_the_project(tmp_path: Path):
    """The project is someone's repo: a FIFO as its settings file must not hang a launch."""
    import os
    import threading

    from sessions.claude_settings import statusline_chain

    config, project = tmp_path / "claude", tmp_path / "proj"
    (project / ".claude").mkdir(parents=True)
    config.mkdir()
    fifo = project / ".claude" / "settings.local.json"
    os.mkfifo(fifo)
    (project / ".claude" / "settings.json").write_text("[" * 100_000 + "]" * 100_000)
    (config / "settings.json").write_text('{"statusLine": {"command": "mine"}}')
    env = {"CLAUDE_CONFIG_DIR": str(config), "HOME": str(tmp_path)}
    got: list[str | None] = []
    worker = threading.Thread(
        target=lambda: got.append(statusline_chain("auto", project, env)), daemon=True
    )
    worker.start()
    worker.join(10)
    hung = worker.is_alive()
    if hung:  # free the thread the old code leaves in open()
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not hung and got == ["mine"]
