"""podium's `--mcp-config` file and where it reaches an agent's argv."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from collectors.paths import Paths
from collectors.settings import AgentSettings
from sessions.agents import build_launch
from sessions.claude_settings import mcp_env, podium_command, write_mcp_config
from sessions.fill.queue import Task
from sessions.fill.runner import Runner, headless_argv


def test_the_file_is_private_names_podium_mcp_and_only_podiums_locations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    paths = Paths(data=tmp_path / "data", runtime=tmp_path / "run")
    path = write_mcp_config(paths.agent_settings, mcp_env(paths))
    assert path == tmp_path / "data" / "agent-settings" / "mcp.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    server = json.loads(path.read_text())["mcpServers"]["podium"]
    command = podium_command()
    assert [server["command"], *server["args"]] == [*command, "mcp"]
    assert Path(server["command"]).is_absolute()
    assert server["env"] == {
        "PODIUM_DATA_DIR": str(tmp_path / "data"),
        "PODIUM_RUNTIME_DIR": str(tmp_path / "run"),
        "PODIUM_CONFIG": str(tmp_path / "config.toml"),
    }
    # Written again (every launch): replaced whole, no temp file left beside it.
    write_mcp_config(paths.agent_settings, mcp_env(paths))
    assert sorted(p.name for p in path.parent.iterdir()) == ["mcp.json"]


def test_claude_gets_the_flag_and_the_sim_does_not(tmp_path: Path) -> None:
    file = tmp_path / "mcp.json"
    claude = tmp_path / "claude"
    claude.write_text("#!/bin/sh\n")
    claude.chmod(0o700)
    plan = build_launch(
        "claude", AgentSettings(claude_bin=str(claude)), mcp_config=file, prompt="hi"
    )
    assert plan.argv == [str(claude), f"--mcp-config={file}", "--", "hi"]
    sim = build_launch("sim", AgentSettings(), mcp_config=file)
    assert sim.argv == [sys.executable, "-m", "sessions.sim"]


def test_a_background_run_gets_the_flag_inside_its_option() -> None:
    task = Task(id=1, prompt="x", cwd="/")
    argv = headless_argv(task, "/bin/claude", resume_id=None, mcp_config=Path("/d/mcp.json"))
    assert argv[-1] == "--mcp-config=/d/mcp.json"
    assert not any(a.startswith("--mcp-config") for a in headless_argv(task, "c", resume_id=None))


def test_the_setting_is_on_unless_turned_off() -> None:
    assert AgentSettings().mcp is True
    assert AgentSettings(mcp=False).mcp is False


def test_a_run_gets_no_config_with_mcp_off(tmp_path: Path) -> None:
    paths = Paths(data=tmp_path / "data", runtime=tmp_path / "run")
    off = SimpleNamespace(agents=AgentSettings(mcp=False), paths=paths)
    assert Runner._mcp_config(off) is None  # type: ignore[arg-type]
    on = SimpleNamespace(agents=AgentSettings(), paths=paths)
    assert Runner._mcp_config(on) == paths.agent_settings / "mcp.json"  # type: ignore[arg-type]
