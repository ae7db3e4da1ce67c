"""Hooks and the statusline command, run the way Claude Code runs them.

Each command goes through `/bin/sh -c` with one JSON object on stdin, in the
session's cwd, with `CLAUDE_PROJECT_DIR` set. A failing, missing or hanging
command is logged to stderr at most and never stops the sim.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HOOK_TIMEOUT = 60.0
STATUSLINE_TIMEOUT = 5.0

# Which payload field a hook's `matcher` is tested against, per event.
_MATCH_FIELD = {
    "PreToolUse": "tool_name",
    "PostToolUse": "tool_name",
    "PermissionRequest": "tool_name",
    "Notification": "notification_type",
    "SessionStart": "source",
    "SessionEnd": "reason",
    "StopFailure": "error",
    "PreCompact": "trigger",
}


@dataclass
class Settings:
    """The parts of a Claude Code settings object the sim acts on."""

    hooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status_command: str | None = None


def load_settings(value: str | None) -> Settings:
    """`--settings` takes a file path or inline JSON, like Claude Code's flag."""
    if not value:
        return Settings()
    try:
        text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        print(f"Warning: could not read settings {value!r}: {exc}", file=sys.stderr)
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    hooks = data.get("hooks") if isinstance(data.get("hooks"), dict) else {}
    status = data.get("statusLine")
    command = None
    if isinstance(status, dict) and status.get("type", "command") == "command":
        command = status.get("command") if isinstance(status.get("command"), str) else None
    return Settings(
        hooks={k: v for k, v in hooks.items() if isinstance(v, list)}, status_command=command
    )


def _matches(matcher: Any, target: Any) -> bool:
    if not matcher or matcher == "*" or not isinstance(matcher, str):
        return True
    if not isinstance(target, str):
        return False
    try:
        return re.fullmatch(matcher, target) is not None
    except re.error:
        return matcher == target


def _run(command: str, payload: dict[str, Any], cwd: str, timeout: float) -> str | None:
    """Run one command; its stdout, or None when it failed in any way."""
    env = {**os.environ, "CLAUDE_PROJECT_DIR": cwd}
    data = json.dumps(payload, ensure_ascii=False) + "\n"
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            input=data.encode("utf-8"),
            capture_output=True,
            cwd=cwd if os.path.isdir(cwd) else None,
            env=env,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


class Hooks:
    """Fires the configured hooks of one settings object."""

    def __init__(self, settings: Settings, cwd: str) -> None:
        self.settings = settings
        self.cwd = cwd
        # Set while shutting down on a signal: hooks then get a short leash.
        self.max_timeout: float | None = None

    def commands(self, event: str, payload: dict[str, Any]) -> list[tuple[str, float]]:
        target = payload.get(_MATCH_FIELD.get(event, ""))
        found = []
        for group in self.settings.hooks.get(event, []):
            if not isinstance(group, dict):
                continue
            if event in _MATCH_FIELD and not _matches(group.get("matcher"), target):
                continue
            for hook in group.get("hooks") or []:
                if not isinstance(hook, dict) or hook.get("type", "command") != "command":
                    continue
                command = hook.get("command")
                if isinstance(command, str) and command.strip():
                    timeout = hook.get("timeout")
                    ok = isinstance(timeout, int | float) and timeout > 0
                    found.append((command, float(timeout) if ok else DEFAULT_HOOK_TIMEOUT))
        return found

    def fire(self, event: str, payload: dict[str, Any]) -> None:
        """Run every hook of `event` in order; they run synchronously, as in Claude Code."""
        for command, timeout in self.commands(event, payload):
            if self.max_timeout is not None:
                timeout = min(timeout, self.max_timeout)
            _run(command, payload, self.cwd, timeout)

    def statusline(self, payload: dict[str, Any]) -> str | None:
        """The first stdout line of the statusline command, or None."""
        command = self.settings.status_command
        if not command:
            return None
        out = _run(command, payload, self.cwd, STATUSLINE_TIMEOUT)
        if not out:
            return None
        first = out.splitlines()[0].rstrip() if out.strip() else ""
        return first or None
