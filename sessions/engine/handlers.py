"""The engine's API methods.

Each handler takes the request's params and returns a JSON-able result, or
raises `ApiError` with a message a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessions import __version__
from sessions.agents import AGENTS, HOOKED_AGENTS, AgentError, build_launch
from sessions.claude_settings import write_settings_file
from sessions.engine.protocol import ApiError
from sessions.registry import SessionRecord, new_session_id
from sessions.state import FINAL_STATES, Change, Source, State
from sessions.tmux import PaneGone, TmuxError, TmuxMissing, TmuxServerGone

if TYPE_CHECKING:
    from sessions.engine.core import Engine

# Variables that describe the caller's own tmux: an agent pane must not inherit them.
_DROP_ENV = ("TMUX", "TMUX_PANE")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def build_handlers(engine: Engine) -> dict[str, Any]:
    api = SessionApi(engine)
    return {
        "ping": api.ping,
        "status": api.status,
        "shutdown": api.shutdown,
        "sessions.list": api.list,
        "sessions.get": api.get,
        "sessions.new": api.new,
        "sessions.send": api.send,
        "sessions.kill": api.kill,
        "sessions.focus": api.focus,
    }


def _tmux_error(exc: TmuxError) -> ApiError:
    if isinstance(exc, TmuxMissing):
        return ApiError("tmux_missing", f"{exc}; `podium doctor` says more")
    if isinstance(exc, TmuxServerGone):
        return ApiError("tmux_gone", f"{exc}: it was stopped or killed")
    return ApiError("tmux", str(exc))


class SessionApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- engine -----------------------------------------------------------------
    async def ping(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid(), "version": __version__}

    async def status(self, params: dict[str, Any]) -> dict[str, Any]:
        e = self.engine
        sessions = e.registry.listed()
        return {
            "pid": os.getpid(),
            "version": __version__,
            "data_dir": str(e.paths.data),
            "socket": str(e.paths.socket),
            "db": str(e.paths.db),
            "started_at": e.started_at,
            "uptime_s": round(time.time() - e.started_at, 1),
            "tmux_socket": e.tmux.socket,
            "tmux_alive": e.tmux_alive,
            "sessions": len(sessions),
            "hooks": dict(e.hook_stats),
            "spool": {"lines": e.spool.stats.lines, "bad_lines": e.spool.stats.bad_lines},
            "watch": e.watch.stats.to_json(),
        }

    async def shutdown(self, params: dict[str, Any]) -> dict[str, Any]:
        # Reply first, then stop: the client wants its answer.
        asyncio.get_running_loop().call_later(0.05, self.engine.request_stop)
        return {"stopping": True, "pid": os.getpid()}

    # -- sessions ---------------------------------------------------------------
    def _find(self, params: dict[str, Any]) -> SessionRecord:
        name = params.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError("bad_request", "a session name is required")
        rec = self.engine.registry.by_name(name)
        if rec is None:
            raise ApiError("not_found", f"no session named '{name}'")
        return rec

    async def list(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [rec.to_json() for rec in self.engine.registry.listed()]

    async def get(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._find(params).to_json()

    async def new(self, params: dict[str, Any]) -> dict[str, Any]:
        e = self.engine
        agent = params.get("agent") or e.settings.agents.default
        if agent not in AGENTS:
            raise ApiError(
                "bad_request", f"unknown agent {agent!r}; choose one of {', '.join(AGENTS)}"
            )
        cwd = Path(str(params.get("cwd") or os.getcwd())).expanduser()
        if not cwd.is_dir():
            raise ApiError("bad_request", f"no such directory: {cwd}")
        env = params.get("env")
        env = dict(env) if isinstance(env, dict) else dict(os.environ)
        for key in _DROP_ENV:
            env.pop(key, None)
        async with e._mutex:
            name = self._pick_name(params.get("name"), agent)
            session_id = new_session_id()
            settings_file = None
            # `hooks: false` (podium new --no-hooks) leaves podium to read the screen.
            hooks = params.get("hooks")
            hooks = e.settings.agents.hooks if hooks is None else bool(hooks)
            if agent in HOOKED_AGENTS and hooks:
                settings_file = write_settings_file(
                    e.paths.agent_settings, session_id, e.settings.agents.hook_timeout
                )
            try:
                plan = build_launch(
                    agent,
                    e.settings.agents,
                    prompt=params.get("prompt") or None,
                    command=params.get("cmd") or None,
                    settings_file=settings_file,
                    resume_id=params.get("resume_id") or None,
                    path_env=env.get("PATH"),
                )
            except AgentError as exc:
                if settings_file:
                    settings_file.unlink(missing_ok=True)
                raise ApiError("bad_request", str(exc)) from None
            env.update(
                PODIUM_SESSION_ID=session_id,
                PODIUM_DATA_DIR=str(e.paths.data),
                PODIUM_TMUX_SOCKET=e.tmux.socket,
            )
            spec = self._write_launch_spec(session_id, env, str(cwd))
            argv = [sys.executable, "-m", "sessions.launch", str(spec), "--", *plan.argv]
            try:
                spawned = await e.blocking(
                    e.tmux.spawn, e.settings.tmux.session_name, name, argv, str(cwd)
                )
            except TmuxError as exc:
                spec.unlink(missing_ok=True)
                raise _tmux_error(exc) from None
            rec = SessionRecord(
                id=session_id,
                name=name,
                agent=agent,
                argv=plan.argv,
                cwd=str(cwd),
                tmux_socket=e.tmux.socket,
                tmux_session_id=spawned.session_id,
                window_id=spawned.window_id,
                pane_id=spawned.pane_id,
                pid=spawned.pid,
                settings_path=str(settings_file) if settings_file else None,
            )
            e.registry.insert(rec)
        e.publish_session(rec)
        if plan.type_after_start:
            e.spawn(self._type_when_ready(rec, plan.type_after_start), f"type-prompt-{rec.id}")
        e.wake_sweeper()
        return rec.to_json()

    def _pick_name(self, requested: Any, agent: str) -> str:
        in_use = self.engine.registry.names_in_use()
        if requested:
            name = str(requested).strip()
            if not name or _CONTROL.search(name) or len(name) > 64:
                raise ApiError(
                    "bad_request",
                    "a session name needs 1-64 printable characters (no control characters)",
                )
            if name in in_use:
                raise ApiError("conflict", f"a session named '{name}' already exists")
            return name
        n = 1
        while f"{agent}-{n}" in in_use:
            n += 1
        return f"{agent}-{n}"

    def _write_launch_spec(self, session_id: str, env: dict[str, str], cwd: str) -> Path:
        path = self.engine.paths.runtime / f"launch-{session_id}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"env": env, "cwd": cwd}, fh)
        return path

    async def _type_when_ready(self, rec: SessionRecord, text: str) -> None:
        """Type a first prompt into an agent that takes none on its command line."""
        e = self.engine
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                screen = await e.blocking(e.tmux.capture, rec.pane_id or "")
            except TmuxError:
                return
            if screen.strip():
                break
            await asyncio.sleep(0.2)
        with contextlib.suppress(TmuxError):
            await e.blocking(e.tmux.send_text, rec.pane_id or "", text)

    def _live(self, rec: SessionRecord) -> str:
        if State(rec.state) in FINAL_STATES or not rec.pane_id:
            code = f" (exit code {rec.exit_code})" if rec.exit_code is not None else ""
            raise ApiError("gone", f"session '{rec.name}' has {rec.state}{code}")
        return rec.pane_id

    async def send(self, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._find(params)
        text = params.get("text")
        if not isinstance(text, str):
            raise ApiError("bad_request", "text to send is required")
        pane = self._live(rec)
        try:
            enter = bool(params.get("enter", True))
            await self.engine.blocking(lambda: self.engine.tmux.send_text(pane, text, enter=enter))
            # Typed input is about to change the screen: sweep now and at the base pace.
            self.engine.wake_sweeper()
        except PaneGone:
            self.engine.wake_sweeper()
            raise ApiError("gone", f"session '{rec.name}': its pane is gone") from None
        except TmuxError as exc:
            raise _tmux_error(exc) from None
        return {"sent": len(text), "name": rec.name}

    async def focus(self, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._find(params)
        pane = rec.pane_id
        if not pane or rec.state == State.LOST:
            raise ApiError("gone", f"session '{rec.name}' has no pane any more")
        try:
            await self.engine.blocking(self.engine.tmux.select_pane, pane)
        except TmuxError as exc:
            raise _tmux_error(exc) from None
        return rec.to_json()

    async def kill(self, params: dict[str, Any]) -> dict[str, Any]:
        e = self.engine
        rec = self._find(params)
        if rec.pane_id and rec.state != State.LOST:
            try:
                await e.blocking(e.tmux.kill_pane, rec.pane_id)
            except (PaneGone, TmuxServerGone):
                pass
            except TmuxError as exc:
                raise _tmux_error(exc) from None
        if State(rec.state) not in FINAL_STATES:
            e.change_state(rec, Change(State.EXITED, Source.USER, "killed"))
        e.registry.remove(rec.id)
        if rec.settings_path:
            Path(rec.settings_path).unlink(missing_ok=True)
        e.bus.publish("session_removed", {"id": rec.id, "name": rec.name})
        return {"killed": rec.name, "id": rec.id}
