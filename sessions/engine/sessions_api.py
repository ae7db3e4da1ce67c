"""The engine's session methods: `sessions.*` and `attention.next`.

Each handler takes the request's params Struct (`sessions.wire`; the server has
checked their types) and returns the method's result Struct, or raises
`ApiError` with a message a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from collectors.paths import Paths, sim_claude_dir
from collectors.settings import AgentSettings, StatuslineSettings, TmuxSettings
from sessions import wire
from sessions.agent_env import DROP_NAMES, agent_env
from sessions.agents import (
    AGENTS,
    HOOKED_AGENTS,
    AgentError,
    build_launch,
    claude_config_dir,
    claude_session_id,
    has_transcript,
)
from sessions.attention import (
    AttentionBook,
    AttentionOrder,
    attention_order,
    attention_wire,
    waiting_first,
)
from sessions.changes import start_commit
from sessions.claude_settings import (
    mcp_env,
    statusline_chain,
    write_mcp_config,
    write_settings_file,
)
from sessions.engine.events import EventBus
from sessions.engine.parts import Blocking, Sessions, Spawn
from sessions.engine.stage import StageKeeper
from sessions.launch import write_spec
from sessions.protocol import ApiError
from sessions.registry import Registry, SessionRecord, new_session_id
from sessions.state import FINAL_STATES, Change, Source, State
from sessions.tmux import (
    PaneGone,
    PaneInfo,
    Spawned,
    Tmux,
    TmuxError,
    TmuxMissing,
    TmuxServerExited,
    TmuxServerGone,
    quote,
)
from sessions.worktree import Worktree, WorktreeError, check_removable
from sessions.worktree import create as create_worktree
from sessions.worktree import remove as remove_worktree

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# How long `podium resume` waits for an exited agent's program to end (its hooks
# say it ended a moment before its process does).
PANE_END_WAIT_S = 3.0


def sessions_handlers(api: SessionApi) -> dict[str, Any]:
    """`sessions.*` and `attention.next`."""
    return {
        "sessions.list": api.list,
        "sessions.get": api.get,
        "sessions.new": api.new,
        "sessions.send": api.send,
        "sessions.kill": api.kill,
        "sessions.focus": api.focus,
        "sessions.resume": api.resume,
        "sessions.rename": api.rename,
        "attention.next": api.next,
    }


def _tmux_error(exc: TmuxError, settings: TmuxSettings | None = None) -> ApiError:
    if isinstance(exc, TmuxMissing):
        return ApiError("tmux_missing", f"{exc}; `podium doctor` says more")
    if isinstance(exc, TmuxServerExited):
        # It died under the command: its sessions are gone with it, and a config that
        # crashes tmux would crash the next server too.
        config = settings is not None and (settings.config or settings.source_user_conf)
        hint = (
            "a setting in the tmux config it reads may crash it ([tmux] config, source_user_conf)"
            if config
            else "`podium doctor` says more"
        )
        return ApiError("tmux_gone", f"{exc}; any session in it is gone; {hint}")
    if isinstance(exc, TmuxServerGone):
        return ApiError("tmux_gone", f"{exc}: it was stopped or killed")
    return ApiError("tmux", str(exc))


@dataclass(frozen=True)
class _Launched:
    argv: list[str]
    spawned: Spawned
    settings_path: str | None
    type_after_start: str | None


class SessionApi:
    def __init__(
        self,
        *,
        registry: Registry,
        attention: AttentionBook,
        tmux: Tmux,
        bus: EventBus,
        stage: StageKeeper,
        paths: Paths,
        agents: AgentSettings,
        statusline: StatuslineSettings,
        tmux_settings: TmuxSettings,
        sessions: Sessions,
        mutex: asyncio.Lock,
        blocking: Blocking,
        spawn: Spawn,
        wake_sweeper: Callable[[], None],
        order: AttentionOrder,
    ) -> None:
        self.registry = registry
        self.attention = attention
        self.tmux = tmux
        self.bus = bus
        self.stage = stage
        self.paths = paths
        self.agents = agents
        self.statusline = statusline
        self.tmux_settings = tmux_settings
        self.sessions = sessions
        self._mutex = mutex
        self.blocking = blocking
        self.spawn = spawn
        self.wake_sweeper = wake_sweeper
        # `[attention] order`: the listing and `next` follow the same one.
        self.order = order

    # -- sessions ---------------------------------------------------------------
    def _find(self, params: wire.SessionRef) -> SessionRecord:
        pane = params.pane
        if pane:
            # The session keys name a pane: that is what tmux bound them to.
            # A lost session may still carry the id of a pane tmux reused.
            live = [r for r in self.registry.listed() if r.state != State.LOST]
            rec = next((r for r in live if r.pane_id == pane), None)
            if rec is None:
                raise ApiError("not_found", f"no podium session in pane {pane}")
            return rec
        name = params.name
        if not name:
            raise ApiError("bad_request", "a session name is required")
        rec = self.registry.by_name(name)
        if rec is None:
            raise ApiError("not_found", f"no session named '{name}'")
        return rec

    async def list(self, params: wire.NoParams) -> list[wire.Session]:
        """Sessions in attention order (`attention_order`): who needs the person first."""
        return attention_order(self._listing(), self.order)

    def _listing(self) -> list[wire.Session]:
        return [self.sessions.session_json(rec) for rec in self.registry.listed()]

    async def get(self, params: wire.SessionRef) -> wire.Session:
        return self.sessions.session_json(self._find(params))

    async def new(self, params: wire.NewParams) -> wire.Session:
        agent = params.agent or self.agents.default
        if agent not in AGENTS:
            raise ApiError(
                "bad_request", f"unknown agent {agent!r}; choose one of {', '.join(AGENTS)}"
            )
        cwd = Path(params.cwd or os.getcwd()).expanduser()
        if not cwd.is_dir():
            raise ApiError("bad_request", f"no such directory: {cwd}")
        want_worktree = params.worktree
        branch = params.branch or None
        if branch is not None and not want_worktree:
            raise ApiError("bad_request", "--branch needs --worktree")
        env = self._caller_env(params)
        async with self._mutex:
            name = self._pick_name(params.name, agent)
            session_id = new_session_id()
            wt = None
            if want_worktree:
                try:
                    wt = await self.blocking(create_worktree, cwd, name, branch)
                except WorktreeError as exc:
                    raise ApiError("worktree", str(exc)) from None
                cwd = wt.path
            # Where its changes start, for the diff view (None outside git).
            start = await self.blocking(start_commit, str(cwd))
            try:
                launched = await self._launch(
                    session_id,
                    name,
                    agent,
                    cwd,
                    env,
                    prompt=params.prompt or None,
                    command=params.cmd or None,
                    hooks=params.hooks,
                )
            except ApiError:
                if wt:
                    # Just made and never used: removing it loses nothing.
                    await self.blocking(remove_worktree, wt)
                raise
            rec = SessionRecord(
                id=session_id,
                name=name,
                agent=agent,
                argv=launched.argv,
                cwd=str(cwd),
                tmux_socket=self.tmux.socket,
                tmux_session_id=launched.spawned.session_id,
                window_id=launched.spawned.window_id,
                pane_id=launched.spawned.pane_id,
                pid=launched.spawned.pid,
                settings_path=launched.settings_path,
                worktree_path=str(wt.path) if wt else None,
                worktree_branch=wt.branch if wt else None,
                worktree_repo=str(wt.repo) if wt else None,
                worktree_branch_created=wt.created_branch if wt else None,
                start_commit=start,
            )
            self.registry.insert(rec)
        self.sessions.publish_session(rec)
        self._after_launch(rec, launched)
        await self.stage.admit(rec)
        return self.sessions.session_json(rec)

    async def _launch(
        self,
        session_id: str,
        name: str,
        agent: str,
        cwd: Path,
        env: dict[str, str],
        *,
        prompt: str | None = None,
        command: str | None = None,
        resume_id: str | None = None,
        hooks: bool | None = None,
        in_pane: str | None = None,
    ) -> _Launched:
        """Write the agent's settings and launch spec, and start it in a new tmux window
        (or in the dead pane `in_pane`, in its place: `podium resume`).

        `hooks=False` (`podium new --no-hooks`) leaves podium to read the screen. A
        person's `podium new` or `podium resume` may start podium's tmux server.
        """
        settings_file = None
        if hooks is None:
            hooks = self.agents.hooks
        if agent in HOOKED_AGENTS and hooks:
            settings_file = write_settings_file(
                self.paths.agent_settings,
                session_id,
                self.agents.hook_timeout,
                chain=statusline_chain(self.statusline.chain, cwd, env),
            )
        mcp_config = None
        if agent == "claude" and self.agents.mcp:
            mcp_config = write_mcp_config(self.paths.agent_settings, mcp_env(self.paths))
        try:
            plan = build_launch(
                agent,
                self.agents,
                prompt=prompt,
                command=command,
                settings_file=settings_file,
                mcp_config=mcp_config,
                resume_id=resume_id,
                path_env=env.get("PATH"),
                cwd=cwd,
            )
        except AgentError as exc:
            if settings_file:
                settings_file.unlink(missing_ok=True)
            # Mostly a program that is not there or not executable: a failure, not bad
            # usage (`bad_request` is exit 2 for the CLI).
            raise ApiError("cannot_start", str(exc)) from None
        env = {
            **env,
            "PODIUM_SESSION_ID": session_id,
            "PODIUM_DATA_DIR": str(self.paths.data),
            "PODIUM_TMUX_SOCKET": self.tmux.socket,
            # The caller's PWD would be stale: shells and tools trust it over getcwd().
            "PWD": str(cwd),
        }
        spec = self.paths.runtime / f"launch-{session_id}.json"
        argv = write_spec(spec, {"argv": plan.argv, "env": env, "cwd": str(cwd)})
        try:
            spawned = await self.blocking(self._start_pane, session_id, name, argv, cwd, in_pane)
        except TmuxError as exc:
            spec.unlink(missing_ok=True)
            if settings_file:
                settings_file.unlink(missing_ok=True)
            if isinstance(exc, TmuxServerGone):
                self.wake_sweeper()  # the sweep reports the server's end at once
            raise _tmux_error(exc, self.tmux_settings) from None
        return _Launched(
            plan.argv, spawned, str(settings_file) if settings_file else None, plan.type_after_start
        )

    def _start_pane(
        self, session_id: str, name: str, argv: list[str], cwd: Path, in_pane: str | None
    ) -> Spawned:
        """The agent's pane: the dead pane `in_pane` started again in its place, else (or
        when that pane vanished meanwhile) a new window. Blocking."""
        if in_pane is not None:
            with contextlib.suppress(PaneGone):
                return self.tmux.respawn(in_pane, argv, str(cwd))
        return self.tmux.spawn(
            self.tmux_settings.session_name,
            name,
            argv,
            str(cwd),
            tag=session_id,
            # What a person asked for: the one start that may bring a server up.
            start_server=True,
        )

    def _after_launch(self, rec: SessionRecord, launched: _Launched) -> None:
        if launched.type_after_start:
            self.spawn(
                self._type_when_ready(rec, launched.type_after_start), f"type-prompt-{rec.id}"
            )
        self.wake_sweeper()

    async def resume(self, params: wire.ResumeParams) -> wire.Session:
        """Relaunch an ended Claude session with `--resume`, in its directory: in its dead
        pane, in place (its place on the stage, its number), or in a new window when
        the pane is gone (lost, killed). Refused when Claude Code saved no
        conversation for it (never prompted)."""
        name = params.name
        if not name:
            raise ApiError("bad_request", "a session name is required")
        rec = self.registry.by_name(name) or self.registry.last_by_name(name)
        if rec is None:
            raise ApiError("not_found", f"no session named '{name}'")
        if rec.agent not in HOOKED_AGENTS:
            raise ApiError(
                "refused",
                f"session '{name}' runs {rec.agent}; only Claude sessions can be resumed",
            )
        if State(rec.state) not in FINAL_STATES:
            raise ApiError(
                "conflict",
                f"session '{name}' is still running ({rec.state}); `podium attach {name}`",
            )
        if not rec.claude_session_id:
            raise ApiError(
                "refused",
                f"session '{name}' never reported a Claude session id: nothing to resume",
            )
        if claude_session_id(rec.claude_session_id) is None:
            # Stored before ids were checked on the way in; never handed to `claude`.
            raise ApiError(
                "refused",
                f"session '{name}': its Claude session id {rec.claude_session_id!r} "
                "is not a UUID; refusing to resume it",
            )
        cwd = Path(rec.cwd)
        if not cwd.is_dir():
            raise ApiError("gone", f"session '{name}': its directory {cwd} is gone")
        env = self._caller_env(params)
        # Where the resumed agent will look: the config dir of the environment it gets
        # (the sim keeps its own, under the data dir the launch gives it).
        if rec.agent == "sim":
            config_dir = sim_claude_dir({**env, "PODIUM_DATA_DIR": str(self.paths.data)})
        else:
            config_dir = claude_config_dir(env)
        if not await self.blocking(has_transcript, rec.claude_session_id, config_dir):
            listed = self.registry.by_name(name) is not None  # killed: its name is free
            fresh = f"`podium kill {name}`, then `podium new`" if listed else "`podium new`"
            raise ApiError(
                "refused",
                f"session '{name}' was never prompted: Claude Code saved no conversation "
                f"to resume (no {rec.claude_session_id}.jsonl under {config_dir / 'projects'}); "
                f"{fresh} starts afresh",
            )
        dead = await self._dead_pane(rec)
        async with self._mutex:
            launched = await self._launch(
                rec.id,
                rec.name,
                rec.agent,
                cwd,
                env,
                prompt=params.prompt or None,
                resume_id=rec.claude_session_id,
                in_pane=dead,
            )
            in_place = dead is not None and launched.spawned.pane_id == dead
            self.registry.restore(rec)
            rec.argv, rec.settings_path = launched.argv, launched.settings_path
            rec.tmux_session_id = launched.spawned.session_id
            rec.window_id, rec.pane_id = launched.spawned.window_id, launched.spawned.pane_id
            rec.pid, rec.exit_code, rec.ended_at = launched.spawned.pid, None, None
            self.registry.update(
                rec.id,
                argv=rec.argv,
                settings_path=rec.settings_path,
                tmux_session_id=rec.tmux_session_id,
                window_id=rec.window_id,
                pane_id=rec.pane_id,
                pid=rec.pid,
                exit_code=None,
                ended_at=None,
            )
            self.sessions.change_state(
                rec, Change(State.STARTING, Source.USER, f"resume {rec.claude_session_id}")
            )
        self._after_launch(rec, launched)
        if not in_place:
            await self.stage.admit(rec)  # in place, it keeps the place it had
        return self.sessions.session_json(rec)

    async def _dead_pane(self, rec: SessionRecord) -> str | None:
        """The session's dead pane (tagged with its id, kept by remain-on-exit), to
        resume it in; None when it has none. A live one is refused: something runs
        there. An agent that said goodbye (SessionEnd: `exited`) is given a moment
        to actually end."""
        deadline = time.monotonic() + PANE_END_WAIT_S
        while True:
            mine = await self._panes_of(rec)
            live = next((p for p in mine if not p.dead), None)
            if live is None:
                break
            if time.monotonic() >= deadline:
                raise ApiError(
                    "conflict",
                    f"session '{rec.name}' still runs a program in pane {live.pane_id}; "
                    f"`podium attach {rec.name}`, or `podium kill {rec.name}` first",
                )
            await asyncio.sleep(0.1)
        # Its own pane first: the one the registry, the stage and the keys know.
        dead = sorted(mine, key=lambda p: p.pane_id != rec.pane_id)
        return dead[0].pane_id if dead else None

    async def _panes_of(self, rec: SessionRecord) -> list[PaneInfo]:
        """Every pane tagged with the session's id, dead ones included."""
        try:
            panes = await self.blocking(self.tmux.list_panes)
        except TmuxError as exc:
            raise _tmux_error(exc, self.tmux_settings) from None
        return [p for p in panes if p.podium_session == rec.id]

    def _caller_env(self, params: wire.NewParams | wire.ResumeParams) -> dict[str, str]:
        """The environment the caller sent for the agent: its client kept only what an
        agent needs (`sessions.agent_env` and `[agents] pass_env` of the caller's config,
        read now, not at engine start). Without one, the engine's own, filtered the same
        way. Never the caller's tmux (`TMUX`, `TMUX_PANE`)."""
        env = params.env
        if env is None:
            return agent_env(os.environ, self.agents.pass_env)
        return {k: v for k, v in env.items() if k not in DROP_NAMES}

    def _pick_name(self, requested: Any, agent: str) -> str:
        in_use = self.registry.names_in_use()
        if requested:
            return self._checked_name(requested, in_use)
        n = 1
        while f"{agent}-{n}" in in_use:
            n += 1
        return f"{agent}-{n}"

    @staticmethod
    def _checked_name(requested: Any, in_use: set[str]) -> str:
        name = str(requested).strip()
        if not name or _CONTROL.search(name) or len(name) > 64:
            raise ApiError(
                "bad_request",
                "a session name needs 1-64 printable characters (no control characters)",
            )
        if name in in_use:
            raise ApiError("conflict", f"a session named '{name}' already exists")
        return name

    async def rename(self, params: wire.RenameParams) -> wire.Session:
        """Give a session a new name; its tmux window follows if it carried the old name."""
        async with self._mutex:
            rec = self._find(params)
            new_name = self._checked_name(
                params.new_name, self.registry.names_in_use() - {rec.name}
            )
            if new_name == rec.name:
                return self.sessions.session_json(rec)
            old_name, rec.name = rec.name, new_name
            self.registry.update(rec.id, name=new_name)
        if rec.window_id and rec.state != State.LOST:
            # Only a window still named after the session: a window the person (or
            # the stage) renamed keeps its name.
            with contextlib.suppress(TmuxError):
                await self.blocking(self._rename_window, rec.window_id, old_name, new_name)
        self.sessions.publish_session(rec)
        return self.sessions.session_json(rec)

    def _rename_window(self, window_id: str, old_name: str, new_name: str) -> None:
        tmux = self.tmux
        current = tmux.run("display-message", "-p", "-t", window_id, "#{window_name}")
        if current and current[0] == old_name:
            tmux.run("rename-window", "-t", window_id, "--", quote(new_name))

    async def _type_when_ready(self, rec: SessionRecord, text: str) -> None:
        """Type a first prompt into an agent that takes none on its command line."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                screen = await self.blocking(self.tmux.capture, rec.pane_id or "")
            except TmuxError:
                return
            if screen.strip():
                break
            await asyncio.sleep(0.2)
        with contextlib.suppress(TmuxError):
            await self.blocking(self.tmux.send_text, rec.pane_id or "", text)

    def _live(self, rec: SessionRecord) -> str:
        if State(rec.state) in FINAL_STATES or not rec.pane_id:
            code = f" (exit code {rec.exit_code})" if rec.exit_code is not None else ""
            raise ApiError("gone", f"session '{rec.name}' has {rec.state}{code}")
        return rec.pane_id

    async def send(self, params: wire.SendParams) -> wire.Sent:
        rec = self._find(params)
        pane = self._live(rec)
        try:
            enter = params.enter
            # What reached the pane (controls taken out): the count and the ack say so.
            text = await self.blocking(lambda: self.tmux.send_text(pane, params.text, enter=enter))
            # Typed input is about to change the screen: sweep now and at the base pace.
            self.wake_sweeper()
        except PaneGone:
            self.wake_sweeper()
            raise ApiError("gone", f"session '{rec.name}': its pane is gone") from None
        except TmuxError as exc:
            raise _tmux_error(exc) from None
        self.sessions.acknowledge(rec, "send", input_sent=enter and bool(text.strip()))
        return wire.Sent(sent=len(text), name=rec.name)

    async def _focus(self, rec: SessionRecord) -> wire.FocusedSession:
        pane = rec.pane_id
        if not pane or rec.state == State.LOST:
            raise ApiError("gone", f"session '{rec.name}' has no pane any more")
        try:
            # Through the stage: a parked session comes forward instead of the
            # client leaving the tower's window for the session's own.
            shown = await self.stage.focus(rec)
        except PaneGone:
            self.wake_sweeper()
            raise ApiError("gone", f"session '{rec.name}': its pane is gone") from None
        except TmuxError as exc:
            raise _tmux_error(exc) from None
        item = self.attention.open_item(rec.id)
        self.sessions.acknowledge(rec, "focus")
        return wire.FocusedSession(
            **msgspec.structs.asdict(self.sessions.session_json(rec)),
            acknowledged=attention_wire(item) if item else None,
            shown=shown,
        )

    async def focus(self, params: wire.SessionRef) -> wire.FocusedSession:
        """Select the session's pane (and switch an attached client to it); acknowledges it."""
        return await self._focus(self._find(params))

    async def next(self, params: wire.NoParams) -> wire.Next:
        """Focus the first session with an open item, in the order `sessions.list` gives."""
        for session in waiting_first(self._listing(), self.order):
            rec = self.registry.get(session.id)
            if rec is None or not rec.pane_id or rec.state == State.LOST:
                continue
            try:
                return wire.Next(session=await self._focus(rec))
            except ApiError as exc:
                if exc.code != "gone":
                    raise
        return wire.Next(session=None)

    async def kill(self, params: wire.KillParams) -> wire.Killed:
        rec = self._find(params)
        wt = _worktree_of(rec)
        cleanup = params.cleanup
        if cleanup and wt:
            # Before the kill: a worktree that cannot go keeps its session too.
            try:
                await self.blocking(check_removable, wt.path)
            except WorktreeError as exc:
                raise ApiError("worktree_dirty", str(exc)) from None
        # Every pane of the session, by its tag: a dead one too (an exited agent's,
        # kept by remain-on-exit), wherever it is; never a pane another took over.
        for pane in await self._panes_of(rec):
            try:
                await self.blocking(self.tmux.kill_pane, pane.pane_id)
            except (PaneGone, TmuxServerGone):
                pass
            except TmuxError as exc:
                raise _tmux_error(exc) from None
        if State(rec.state) not in FINAL_STATES:
            self.sessions.change_state(rec, Change(State.EXITED, Source.USER, "killed"))
        self.registry.remove(rec.id)
        if rec.settings_path:
            Path(rec.settings_path).unlink(missing_ok=True)
        self.bus.publish(
            wire.SessionRemovedEvent(data=wire.SessionRemoved(id=rec.id, name=rec.name))
        )
        result = wire.Killed(
            killed=rec.name,
            id=rec.id,
            worktree=(
                wire.KilledWorktree(path=str(wt.path), branch=wt.branch, repo=str(wt.repo))
                if wt
                else None
            ),
        )
        if cleanup and wt and result.worktree is not None:
            removal = await self.blocking(remove_worktree, wt)
            result.worktree.removed = removal.removed
            result.worktree.branch_deleted = removal.branch_deleted
            result.cleanup = list(removal.notes)
        return result


def _worktree_of(rec: SessionRecord) -> Worktree | None:
    if not (rec.worktree_path and rec.worktree_branch and rec.worktree_repo):
        return None
    return Worktree(
        path=Path(rec.worktree_path),
        branch=rec.worktree_branch,
        repo=Path(rec.worktree_repo),
        created_branch=bool(rec.worktree_branch_created),
    )
