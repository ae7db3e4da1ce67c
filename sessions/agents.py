"""Agent profiles: how each kind of agent is started.

A profile turns (agent, prompt, user command) into argv. Screen profiles for
state detection (issue: session state and attention) hang off the same names.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from collectors.settings import AgentSettings

AGENTS = ("claude", "sim", "codex", "aider", "shell")
# Agents that speak Claude Code's hooks and take `--settings`.
HOOKED_AGENTS = ("claude", "sim")


# A Claude Code session id: a UUID, nothing else.
_SESSION_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class AgentError(Exception):
    """An agent cannot be started as asked; the message says why."""


def claude_session_id(value: object) -> str | None:
    """`value` if it is a Claude Code session id (a UUID), else None.

    Session ids arrive in hook payloads and stream-json output, which whatever
    runs in a pane can write; one goes back as `claude --resume=ID`. A value
    that is not a UUID is ignored where it is read (never stored as a session's
    id) and refused where an id is used.
    """
    if isinstance(value, str) and _SESSION_ID.fullmatch(value):
        return value
    return None


def resume_arg(session_id: str) -> str:
    """`--resume=ID` for a checked id; `AgentError` (one line) for anything else."""
    if claude_session_id(session_id) is None:
        raise AgentError(f"refusing to resume {session_id!r}: not a Claude session id (a UUID)")
    return f"--resume={session_id}"


def claude_config_dir(env: Mapping[str, str]) -> Path:
    """Where a Claude Code started with `env` keeps its config and transcripts:
    `CLAUDE_CONFIG_DIR`, else `~/.claude` of the `HOME` it gets."""
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".claude"


def has_transcript(session_id: str, config_dir: Path) -> bool:
    """Whether `config_dir` holds a conversation `claude --resume=session_id` can take up:
    `projects/<project>/<session_id>.jsonl`, a regular file with something in it.

    Claude Code writes no transcript before the first prompt: a session that was
    never prompted has an id (SessionStart names it) and nothing to resume. The
    `transcript_path` hooks report is not used (whatever runs in a pane can write
    hook lines), and nothing is opened or followed: `lstat` only, so a symlink, a
    FIFO or a device is no transcript. `session_id` must be a checked UUID (it goes
    into a glob pattern, where it holds no special character).
    """
    if claude_session_id(session_id) is None:
        return False
    try:
        found = list((config_dir / "projects").glob(f"*/{session_id}.jsonl"))
    except OSError:
        return False
    for path in found:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size > 0:
            return True
    return False


@dataclass(frozen=True)
class LaunchPlan:
    argv: list[str]
    # Text to type once the agent is up, for agents that take no prompt argument.
    type_after_start: str | None = None


def resolve_bin(name: str) -> str | None:
    """A configured executable: a path, or a name looked up on PATH."""
    if "/" in name:
        path = Path(name).expanduser()
        return str(path) if path.exists() else None
    return shutil.which(name)


def _program(name: str, path_env: str | None, cwd: Path | None, what: str, fix: str) -> str:
    """The file `name` runs (looked up on `path_env` unless it holds a '/', then taken
    from `cwd`), or an `AgentError` that says why it cannot run and how to fix it."""
    if "/" in name:
        path = Path(name).expanduser()
        if not path.is_absolute() and cwd is not None:
            path = cwd / path
        if not path.exists():
            raise AgentError(f"{what}: {name!r} does not exist; {fix}")
    else:
        found = shutil.which(name, path=path_env)
        if found is None:
            raise AgentError(f"{what}: {name!r} not found on PATH; {fix}")
        path = Path(found)
    if path.is_dir():
        raise AgentError(f"{what}: {name!r} is a directory; {fix}")
    if not os.access(path, os.X_OK):
        raise AgentError(f"{what}: {name!r} is not executable (chmod +x it); {fix}")
    return str(path)


def build_launch(
    agent: str,
    config: AgentSettings,
    *,
    prompt: str | None = None,
    command: str | None = None,
    settings_file: Path | None = None,
    mcp_config: Path | None = None,
    resume_id: str | None = None,
    path_env: str | None = None,
    cwd: Path | None = None,
) -> LaunchPlan:
    """argv for `agent`; `command` (a user's `--cmd`) replaces the default program.
    The program must be there and executable (on `path_env`, or a path from `cwd`):
    a session that cannot start is refused with the fix, never a dead pane."""
    if agent not in AGENTS:
        raise AgentError(f"unknown agent {agent!r}; choose one of {', '.join(AGENTS)}")
    if command is not None:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise AgentError(f"cannot parse --cmd: {exc}") from None
        if not argv:
            raise AgentError("--cmd is empty")
    elif agent == "claude":
        argv = [config.claude_bin]
    elif agent == "sim":
        argv = [sys.executable, "-m", "sessions.sim"]
    elif agent == "codex":
        argv = [config.codex_bin]
    elif agent == "aider":
        argv = [config.aider_bin]
    else:
        argv = [config.shell or os.environ.get("SHELL") or "/bin/sh"]

    if command is not None:
        fix = "check --cmd"
    elif agent in ("claude", "codex", "aider"):
        fix = f"install it or set agents.{agent}_bin in podium's config"
    else:
        fix = "set agents.shell in podium's config"
    found = _program(argv[0], path_env, cwd, f"cannot start {agent}", fix)
    if command is None and agent in ("claude", "codex", "aider"):
        argv[0] = found

    if agent in HOOKED_AGENTS:
        # `--opt=value`: a value can never be read as an option of its own.
        if settings_file is not None:
            argv.append(f"--settings={settings_file}")
        if mcp_config is not None and agent == "claude":
            # podium's tools (`podium mcp`); the sim agent takes no MCP servers.
            argv.append(f"--mcp-config={mcp_config}")
        if resume_id:
            argv.append(resume_arg(resume_id))
        if prompt:
            # `--` keeps a prompt that starts with '-' from being read as an option.
            argv += ["--", prompt]
        return LaunchPlan(argv)
    if agent == "codex" and prompt and command is None:
        return LaunchPlan([*argv, "--", prompt])
    return LaunchPlan(argv, type_after_start=prompt or None)
