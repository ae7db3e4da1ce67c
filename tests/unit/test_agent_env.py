"""What of the caller's environment an agent gets: what it needs, never the rest."""

from __future__ import annotations

from sessions.agent_env import agent_env

CALLER = {
    "PATH": "/usr/bin",
    "HOME": "/home/me",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "XDG_CONFIG_HOME": "/home/me/.config",
    "ANTHROPIC_API_KEY": "sk-ant-api",
    "CLAUDE_CONFIG_DIR": "/home/me/.claude",
    "AWS_PROFILE": "bedrock",
    "HTTPS_PROXY": "http://proxy:3128",
    "PODIUM_DATA_DIR": "/d",
    "SSH_AUTH_SOCK": "/run/ssh",
    "TMUX": "/tmp/tmux-0/default,1,0",
    "TMUX_PANE": "%3",
    "MY_DB_PASSWORD": "hunter2",
    "GITHUB_TOKEN": "ghp_x",
    "MY_TOOL_HOME": "/opt/tool",
}


def test_only_what_an_agent_needs_passes() -> None:
    got = agent_env(CALLER)
    for name in ("MY_DB_PASSWORD", "GITHUB_TOKEN", "MY_TOOL_HOME", "TMUX", "TMUX_PANE"):
        assert name not in got
    for name in ("PATH", "HOME", "LANG", "LC_ALL", "XDG_CONFIG_HOME", "ANTHROPIC_API_KEY"):
        assert got[name] == CALLER[name]
    for name in ("CLAUDE_CONFIG_DIR", "AWS_PROFILE", "HTTPS_PROXY", "PODIUM_DATA_DIR"):
        assert got[name] == CALLER[name]


def test_pass_env_adds_names_and_patterns_but_never_tmux() -> None:
    got = agent_env(CALLER, ["GITHUB_TOKEN", "MY_TOOL_*", "TMUX*"])
    assert got["GITHUB_TOKEN"] == "ghp_x" and got["MY_TOOL_HOME"] == "/opt/tool"
    assert "MY_DB_PASSWORD" not in got and "TMUX" not in got and "TMUX_PANE" not in got


def test_values_that_are_not_strings_are_dropped() -> None:
    assert agent_env({"PATH": 3, "HOME": "/h", 4: "x"}) == {"HOME": "/h"}  # type: ignore[dict-item]
