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

# The events the state machine listens to (reference §3). PostToolUse costs a
# hook run per tool call, but it is how podium sees a dialog answered in the
# pane (permission → busy) at once rather than at the end of the turn.
PODIUM_HOOK_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
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


def hook_settings(command: list[str], timeout: int) -> dict:
    """A Claude Code settings object with podium's hooks and statusline."""
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
    return {
        "hooks": hooks,
        "statusLine": {"type": "command", "command": shlex.join([*command, "statusline"])},
    }


def write_settings_file(directory: Path, session_id: str, timeout: int) -> Path:
    """Write the session's settings file (0600) and return its path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{session_id}.json"
    data = json.dumps(hook_settings(podium_command(), timeout), indent=2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    return path
