"""Agent profiles: argv for each agent, never a shell string."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from collectors.settings import AgentSettings
from sessions.agents import AgentError, build_launch
from sessions.claude_settings import PODIUM_HOOK_EVENTS, hook_settings


def test_sim_gets_settings_and_prompt_after_double_dash(tmp_path: Path):
    plan = build_launch(
        "sim", AgentSettings(), prompt="-rf $(whoami)", settings_file=tmp_path / "s.json"
    )
    assert plan.argv[:3] == [sys.executable, "-m", "sessions.sim"]
    assert plan.argv[3:] == ["--settings", str(tmp_path / "s.json"), "--", "-rf $(whoami)"]


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
