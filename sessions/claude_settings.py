"""The `--settings` file podium hands to each Claude Code session it starts.

It adds podium's hooks and statusline to that one session; the user's own
settings files are never read for writing, let alone written.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from collectors import safe_json
from collectors.paths import Paths

# The events the state machine listens to (reference §3). PostToolUse costs a
# hook run per tool call, but it is how podium sees a dialog answered in the
# pane (permission → busy) at once rather than at the end of the turn. A tool
# that fails fires PostToolUseFailure instead: what a session is doing needs it.
PODIUM_HOOK_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
    "PreCompact",
    "Notification",
    "Stop",
    "StopFailure",
    "SessionEnd",
)


def podium_command() -> list[str]:
    """argv that runs this podium: the venv's console script when there is one."""
    script = Path(sys.executable).with_name("podium")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tui"]


def hook_settings(command: list[str], timeout: int, chain: str | None = None) -> dict:
    """A Claude Code settings object with podium's hooks and statusline.

    `chain` is the user's own statusline command: podium's statusline runs it
    after its usage line (`podium statusline --chain CMD`)."""
    hooks = {
        event: [
            {
                "matcher": "",
                "hooks": [
                    {
                        "type": "command",
                        # Claude Code runs hook commands through a shell; the
                        # argv is ours (paths, an event name), quoted by shlex.
                        "command": shlex.join([*command, "hook", event]),
                        "timeout": timeout,
                    }
                ],
            }
        ]
        for event in PODIUM_HOOK_EVENTS
    }
    statusline = [*command, "statusline", *(["--chain", chain] if chain else [])]
    return {
        "hooks": hooks,
        # shlex-quoted: the shell Claude Code runs this through hands `chain` back as
        # one argument, untouched; only `podium statusline` gives it to a shell.
        "statusLine": {"type": "command", "command": shlex.join(statusline)},
    }


def write_settings_file(
    directory: Path, session_id: str, timeout: int, chain: str | None = None
) -> Path:
    """Write the session's settings file (0600) and return its path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{session_id}.json"
    data = json.dumps(hook_settings(podium_command(), timeout, chain), indent=2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    return path


MCP_SERVER_NAME = "podium"
"""The server's name in `--mcp-config`: Claude Code shows its tools to the model as
`mcp__podium__<tool>`."""


def mcp_config(command: list[str], env: dict[str, str]) -> dict:
    """The `--mcp-config` object that runs `podium mcp` (stdio) with `env`."""
    return {
        "mcpServers": {
            MCP_SERVER_NAME: {"command": command[0], "args": [*command[1:], "mcp"], "env": env}
        }
    }


def mcp_env(paths: Paths) -> dict[str, str]:
    """What `podium mcp` needs to find this engine, and nothing else: podium's own
    locations (the config file only when one was named)."""
    env = {"PODIUM_DATA_DIR": str(paths.data), "PODIUM_RUNTIME_DIR": str(paths.runtime)}
    if os.environ.get("PODIUM_CONFIG"):
        env["PODIUM_CONFIG"] = os.environ["PODIUM_CONFIG"]
    return env


def write_mcp_config(directory: Path, env: dict[str, str]) -> Path:
    """Write `<directory>/mcp.json` (0600) and return its path. One file for every
    session and run: it names only podium's own locations (`env`), the same for all;
    who calls is in the agent's own environment (`PODIUM_QUEUE_TASK`), which the
    server inherits. Replaced whole (a rename), so a starting agent never reads half."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / "mcp.json"
    tmp = directory / f".mcp.json.{os.getpid()}.tmp"
    data = json.dumps(mcp_config(podium_command(), env), indent=2)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return path


def _is_podium_statusline(command: str) -> bool:
    return "podium" in command and "statusline" in command


def user_statusline(cwd: Path, config_dirs: list[Path]) -> str | None:
    """The statusLine command the user's own Claude settings give a session in `cwd`
    (project-local, project, then user settings, as Claude Code ranks them); None when
    there is none or it is podium's own. Read only, never written."""
    candidates = [
        cwd / ".claude" / "settings.local.json",
        cwd / ".claude" / "settings.json",
        *(d / "settings.json" for d in config_dirs),
    ]
    for path in candidates:
        # The project's files are the repo's: a FIFO there must not hang a launch.
        data, _why = safe_json.load_file(path)
        status = data.get("statusLine") if isinstance(data, dict) else None
        if not isinstance(status, dict):
            continue
        command = status.get("command")
        if status.get("type", "command") != "command" or not isinstance(command, str):
            continue
        command = command.strip()
        return None if not command or _is_podium_statusline(command) else command
    return None


def statusline_chain(setting: str, cwd: Path, env: dict[str, str]) -> str | None:
    """The command `[statusline] chain` names for a session started with `env` in `cwd`:
    "" none, "auto" the user's own statusLine (see `user_statusline`), else itself."""
    setting = setting.strip()
    if setting != "auto":
        return setting or None
    raw = env.get("CLAUDE_CONFIG_DIR")
    home = Path(env.get("HOME") or Path.home())
    if raw:
        dirs = [Path(p).expanduser() for p in raw.split(",") if p.strip()]
    else:
        dirs = [home / ".claude"]
    return user_statusline(cwd, dirs)
