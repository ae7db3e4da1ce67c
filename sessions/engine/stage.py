"""The engine's side of the stage: which sessions stand beside the tower, and when.

`sessions.stage` knows the layout and the tmux moves; this keeper decides
them. It reads the stage back from tmux before every decision (tmux holds the
truth, so a restarted engine carries on), keeps when each session was last in
front of the person (`stage_focus`), and serialises every stage change behind
one lock: two moves at once would each act on a layout the other just changed.

Moves:
- bringing a parked session forward (`stage.show`, `sessions.focus`,
  `attention.next`): into a free place, or in place of the staged session
  least recently focused (one `swap-pane`: the layout stands);
- a new session (`podium new`, `podium resume`) joins when there is room;
- the sweep looks when the stage window, its size or its panes changed: a
  window too narrow for all its sessions parks the least recently focused
  (and takes them back when it widens; places a widened window has beyond
  them go to the parked sessions that need the person most), a staged pane
  that vanished (killed) leaves its place to the parked session that needs the
  person most, and the layout is set again if it is off.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from collectors.paths import Paths
from collectors.settings import TmuxSettings, UiSettings
from sessions import stage, wire
from sessions.attention import AttentionOrder, attention_order
from sessions.claude_settings import podium_command
from sessions.engine.events import EventBus
from sessions.engine.parts import Blocking
from sessions.launch import write_spec
from sessions.protocol import ApiError
from sessions.registry import Registry, SessionRecord
from sessions.state import FINAL_STATES, State
from sessions.tmux import PaneInfo, Tmux, TmuxError, TmuxMissing, TmuxServerGone

log = logging.getLogger("podium.engine")
_NEVER = datetime.min.replace(tzinfo=UTC)
# The caller's own tmux must not leak into the tower's pane.
_DROP_ENV = ("TMUX", "TMUX_PANE")


def _api_error(exc: TmuxError) -> ApiError:
    if isinstance(exc, TmuxMissing):
        return ApiError("tmux_missing", f"{exc}; `podium doctor` says more")
    if isinstance(exc, TmuxServerGone):
        return ApiError("tmux_gone", f"{exc}: it was stopped or killed")
    return ApiError("tmux", str(exc))


class StageKeeper:
    def __init__(
        self,
        *,
        conn: duckdb.DuckDBPyConnection,
        registry: Registry,
        tmux: Tmux,
        bus: EventBus,
        paths: Paths,
        ui: UiSettings,
        tmux_settings: TmuxSettings,
        blocking: Blocking,
        session_json: Callable[[SessionRecord], wire.Session],
        publish_session: Callable[[SessionRecord], None],
        order: AttentionOrder,
    ) -> None:
        self.conn = conn
        self.registry = registry
        self.tmux = tmux
        self.bus = bus
        self.paths = paths
        self.ui = ui
        self.tmux_settings = tmux_settings
        self.blocking = blocking
        self.session_json = session_json
        self.publish_session = publish_session
        # `[attention] order`: who comes on stage first when a place frees.
        self.order = order
        self._lock = asyncio.Lock()
        rows = conn.execute("SELECT session_id, focused_at FROM stage_focus").fetchall()
        self._focused_at: dict[str, datetime] = {str(r[0]): r[1] for r in rows}
        # Sessions a person had on screen at the last sweep.
        self._on_screen: set[str] = set()
        # The stage as the keeper last left or saw it (None: not looked yet, or none).
        self._seen: stage.StageView | None = None
        # The sessions on stage in `_seen`, for `on_stage` (session JSON asks often).
        self._staged_ids: set[str] = set()
        # Sessions parked because the window got too narrow, to bring back when it widens.
        self._squeezed: list[str] = []
        # The last `stage.up`: how `stage.tower` starts the tower again (its command,
        # environment and directory); None until one came since the engine started.
        self._last_up: wire.StageUpParams | None = None

    @property
    def session_name(self) -> str:
        return self.tmux_settings.session_name

    @property
    def stage_size(self) -> int:
        return self.ui.stage_size

    def _capacity(self, view: stage.StageView) -> int:
        return stage.stage_capacity(view.width, self.stage_size, self.ui.session_min_width)

    def _arrange(self) -> stage.StageView:
        return stage.arrange(self.tmux, self.session_name, self.ui.session_min_width)

    def _read(self) -> stage.StageView:
        return stage.read(self.tmux, self.session_name)

    # -- when each session was last in front of the person ---------------------------
    def touch(self, session_id: str, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        self._focused_at[session_id] = at
        self._store_focus(session_id, at)

    def _store_focus(self, session_id: str, at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO stage_focus (session_id, focused_at) VALUES (?, ?) "
            "ON CONFLICT (session_id) DO UPDATE SET focused_at = excluded.focused_at",
            [session_id, at],
        )

    def _follow_focus(self, panes: list[PaneInfo]) -> None:
        """Sessions on a person's screen are being looked at now. Stored when one comes
        into view or leaves it, not every sweep: memory has the time in between."""
        now = datetime.now(UTC)
        on_screen = {p.podium_session for p in panes if p.focused and p.podium_session}
        for sid in on_screen:
            self._focused_at[sid] = now
        for sid in on_screen ^ self._on_screen:
            if sid in self._focused_at:
                self._store_focus(sid, self._focused_at[sid])
        self._on_screen = on_screen

    def _lru_key(self, pane: PaneInfo) -> datetime:
        return self._focused_at.get(pane.podium_session, _NEVER)

    # -- what the API shows ----------------------------------------------------------------
    def layout_json(self, view: stage.StageView) -> wire.StageLayout:
        names = {rec.id: rec.name for rec in self.registry.listed()}
        parked_ids = {p.podium_session for p in view.parked}
        listed = [self.session_json(rec) for rec in self.registry.listed()]
        ordered = attention_order(listed, self.order)
        return wire.StageLayout(
            window_id=view.window_id,
            tower_pane=view.tower.pane_id if view.tower else None,
            tower_alive=bool(view.tower and not view.tower.dead),
            staged=[names.get(p.podium_session, p.podium_session) for p in view.staged],
            parked=[s.name for s in ordered if s.id in parked_ids],
            capacity=self._capacity(view) if view.exists else 0,
            stage_size=self.stage_size,
            width=view.width,
            height=view.height,
        )

    def _name(self, pane: PaneInfo) -> str:
        rec = self.registry.get(pane.podium_session)
        return rec.name if rec else pane.podium_session

    def _candidates(self, view: stage.StageView) -> list[str]:
        """Parked sessions still running, the one needing the person most first."""
        parked = {p.podium_session for p in view.parked}
        listed = [
            self.session_json(rec)
            for rec in self.registry.listed()
            if rec.id in parked and State(rec.state) not in FINAL_STATES
        ]
        return [s.id for s in attention_order(listed, self.order)]

    def _pane_of(self, view: stage.StageView, session_id: str) -> str | None:
        return next((p.pane_id for p in view.parked if p.podium_session == session_id), None)

    def on_stage(self, session_id: str) -> bool | None:
        """Whether the session is on stage as last seen; None while there is no stage."""
        if self._seen is None:
            return None
        return session_id in self._staged_ids

    def _remember(self, view: stage.StageView | None) -> None:
        """Keep `view` as the stage seen last; sessions that came on or left it are news
        (all of them when the stage itself came or went: `on_stage` was null)."""
        had_stage = self._seen is not None
        self._seen = view if view is not None and view.exists else None
        staged = {p.podium_session for p in view.staged} if self._seen and view else set()
        news = staged ^ self._staged_ids
        if had_stage != (self._seen is not None):
            news = {rec.id for rec in self.registry.listed()}
        self._staged_ids = staged
        for session_id in news:
            rec = self.registry.get(session_id)
            if rec is not None:
                self.publish_session(rec)  # the tower hides the preview of a staged session

    async def _changed(self, view: stage.StageView) -> None:
        """After a move: remember the stage, follow the moved panes' windows, tell clients."""
        windows = {p.pane_id: p.window_id for p in (*view.cells, *view.parked)}
        for rec in self.registry.listed():
            window = windows.get(rec.pane_id or "")
            if window and window != rec.window_id:
                rec.window_id = window
                self.registry.update(rec.id, window_id=window)
        self._remember(view)
        self.bus.publish(wire.StageEvent(data=self.layout_json(view)))

    # -- moves -------------------------------------------------------------------------------
    async def _bring(self, view: stage.StageView, pane: PaneInfo) -> stage.StageView:
        """Put a parked pane on stage: in a free place, else in place of the staged
        session least recently focused."""
        tmux = self.tmux
        staged = view.staged
        if len(staged) < self._capacity(view):
            await self.blocking(stage.join, tmux, view, [pane.pane_id])
            view = await self.blocking(self._arrange)
        else:
            out = min(staged, key=self._lru_key)
            log.info("stage: %s forward, %s parked", self._name(pane), self._name(out))
            await self.blocking(stage.swap, tmux, pane.pane_id, out.pane_id, self._name(out))
            view = await self.blocking(self._read)
        if pane.podium_session in self._squeezed:
            self._squeezed.remove(pane.podium_session)
        return view

    async def focus(self, rec: SessionRecord) -> bool:
        """Focus a session's pane, bringing it on stage first when it is parked.

        Without a stage window this is tmux's plain select + switch-client. True
        when an attached client shows the pane.
        """
        pane_id = rec.pane_id or ""
        async with self._lock:
            view = await self.blocking(self._read)
            parked = next((p for p in view.parked if p.pane_id == pane_id), None)
            if parked is not None:
                view = await self._bring(view, parked)
            if view.exists:
                self.touch(rec.id)
            shown = await self.blocking(self.tmux.focus, pane_id)
            if parked is not None:
                await self._changed(view)
        return shown

    async def admit(self, rec: SessionRecord) -> None:
        """A session just started: on stage if there is room (else it stays parked)."""
        try:
            async with self._lock:
                view = await self.blocking(self._read)
                pane = self._pane_of(view, rec.id)
                cap = self._capacity(view)
                if not view.exists or pane is None or len(view.staged) >= cap:
                    return
                await self.blocking(stage.join, self.tmux, view, [pane])
                view = await self.blocking(self._arrange)
                self.touch(rec.id)
                await self._changed(view)
        except TmuxError as exc:
            log.warning("stage: cannot take %s on stage: %s", rec.name, exc)

    async def after_sweep(self, panes: list[PaneInfo]) -> bool:
        """Look at the stage when the sweep shows it changed (nothing to do otherwise).

        True when it changed: the sweep keeps its pace (a move may call for another).
        """
        try:
            self._follow_focus(panes)
            view = stage.read_view(panes, self.session_name)
            if not view.exists:
                self._remember(None)
                return False
            if self._seen is not None and view.key() == self._seen.key():
                return False
            if self._lock.locked():
                return True  # a move is under way: the next sweep looks again
            async with self._lock:
                await self._reconcile()
            return True
        except TmuxError as exc:
            log.warning("stage: %s", exc)
        except Exception:  # the stage must never stop the sweep
            log.exception("stage: looking at the stage failed")
        return False

    async def _reconcile(self) -> None:
        tmux = self.tmux
        before = self._seen
        view = await self.blocking(self._read)
        if not view.exists:
            self._remember(None)
            return
        cap = self._capacity(view)
        staged = view.staged
        moved = False
        if len(staged) > cap:
            for pane in sorted(staged, key=self._lru_key)[: len(staged) - cap]:
                log.info("stage: window %d columns wide, %s parked", view.width, self._name(pane))
                await self.blocking(stage.park, tmux, pane.pane_id, self._name(pane))
                self._squeezed.append(pane.podium_session)
            moved = True
        else:
            free = cap - len(staged)
            live = self._candidates(view)
            back = [sid for sid in self._squeezed if sid in live][:free]
            places = 0  # places to give the parked sessions that need the person most
            if before is not None and before.window_id == view.window_id:
                places = sum(1 for p in before.staged if p.podium_session not in view.tags)
                if cap > self._capacity(before):
                    # Wider: every free place. A session parked by the narrow window
                    # may have been swapped out since, so `back` alone would not do.
                    places = free
            fill = [sid for sid in live if sid not in back][: min(places, free - len(back))]
            bring = [pane for sid in back + fill if (pane := self._pane_of(view, sid))]
            if bring:
                await self.blocking(stage.join, tmux, view, bring)
                for sid in back + fill:
                    self.touch(sid)
                moved = True
            parked = {p.podium_session for p in view.parked}
            self._squeezed = [s for s in self._squeezed if s in parked and s not in back]
        view = await self.blocking(self._arrange)
        if moved:
            await self._changed(view)
        else:
            self._remember(view)

    # -- the API ---------------------------------------------------------------------------
    async def api_layout(self, params: wire.NoParams) -> wire.StageLayout:
        """The stage now: `{window_id, tower_pane, staged: [names left to right], parked}`."""
        try:
            view = await self.blocking(self._read)
        except TmuxError as exc:
            raise _api_error(exc) from None
        return self.layout_json(view)

    async def api_up(self, params: wire.StageUpParams) -> wire.StageLayout:
        """Make (or mend) the stage: tower on the left, free places filled, tower focused.

        params: `tower` (argv of the control tower), `env` (the caller's
        environment, for the tower), `cwd`, `size` ([columns, rows] of the
        caller's terminal, for a tmux session made now).
        """
        tower = params.tower
        if not tower:
            raise ApiError("bad_request", "tower must be a non-empty argv list")
        self._last_up = params
        cwd = Path(params.cwd or Path.home())
        if not cwd.is_dir():
            cwd = Path.home()
        size = _size(params.size)
        env = self._tower_env(params.env, str(cwd))

        def launch() -> list[str]:
            return self._launch_argv(tower, env, str(cwd))

        try:
            async with self._lock:
                view = await self.blocking(
                    stage.ensure,
                    self.tmux,
                    self.session_name,
                    launch,
                    str(cwd),
                    size,
                    self.ui.tower_window,
                )
                free = self._capacity(view) - len(view.staged)
                bring = self._candidates(view)[: max(0, free)]
                panes = [p for sid in bring if (p := self._pane_of(view, sid))]
                if panes:
                    await self.blocking(stage.join, self.tmux, view, panes)
                for sid in bring:
                    self.touch(sid)
                view = await self.blocking(self._arrange)
                await self.blocking(stage.show_tower, self.tmux, view)
                await self._changed(view)
        except TmuxError as exc:
            raise _api_error(exc) from None
        return self.layout_json(view)

    async def api_tower(self, params: wire.NoParams) -> wire.StageLayout:
        """Bring the control tower back (the tower key, Alt-0, when no live tower
        stands on stage: q closed it, it crashed): `stage.up` with the command,
        environment and directory of the last `stage.up`, else `podium tower` in this
        engine's own environment."""
        last = self._last_up or wire.StageUpParams(tower=[*podium_command(), "tower"])
        return await self.api_up(last)

    async def api_show(
        self,
        params: wire.SessionRef,
        focus: Callable[[wire.SessionRef], Awaitable[wire.FocusedSession]],
    ) -> wire.FocusedSession:
        """Bring session `name` on stage (if parked), focus and acknowledge it."""
        try:
            view = await self.blocking(self._read)
        except TmuxError as exc:
            raise _api_error(exc) from None
        if not view.exists:
            raise ApiError("no_stage", "there is no stage yet: `podium up` makes it")
        return await focus(params)

    async def api_zoom(self, params: wire.ZoomParams) -> wire.Zoomed:
        """`{zoomed, pane}`: the tower fills the stage window (its wide screens), or
        not. `pane` is the asking tower's own: a tower elsewhere zooms nothing."""
        try:
            async with self._lock:
                view = await self.blocking(self._read)
                if not view.exists:
                    raise ApiError("no_stage", "there is no stage yet: `podium up` makes it")
                pane = params.pane
                if pane and (view.tower is None or view.tower.pane_id != pane):
                    return wire.Zoomed(zoomed=False)
                zoomed = await self.blocking(stage.zoom_tower, self.tmux, view, params.zoomed)
        except TmuxError as exc:
            raise _api_error(exc) from None
        return wire.Zoomed(zoomed=zoomed)

    # -- the tower's launch -------------------------------------------------------------
    def _tower_env(self, env: dict[str, str] | None, cwd: str) -> dict[str, str]:
        base = env if env is not None else dict(os.environ)
        out = {str(k): str(v) for k, v in base.items() if k not in _DROP_ENV}
        # The tower must find this engine and this tmux server, whatever the caller had.
        out["PODIUM_DATA_DIR"] = str(self.paths.data)
        out["PODIUM_TMUX_SOCKET"] = self.tmux.socket
        out["PWD"] = cwd
        return out

    def _launch_argv(self, tower: list[str], env: dict[str, str], cwd: str) -> list[str]:
        """`python -m sessions.launch SPEC`, as for agents: the argv and environment
        go through a 0600 file, never a command line."""
        runtime = self.paths.runtime
        for old in runtime.glob("launch-tower-*.failed"):
            old.unlink(missing_ok=True)  # an earlier tower that could not start
        spec = runtime / f"launch-tower-{uuid.uuid4().hex[:8]}.json"
        return write_spec(spec, {"argv": tower, "env": env, "cwd": cwd})


def _size(value: list[int] | None) -> tuple[int, int]:
    """The caller's terminal size, sane, or tmux's usual default."""
    if value is not None and len(value) == 2:
        cols, rows = value
        if 10 <= cols <= 1000 and 5 <= rows <= 1000:
            return cols, rows
    return 200, 50


def stage_handlers(
    keeper: StageKeeper, focus: Callable[[wire.SessionRef], Awaitable[wire.FocusedSession]]
) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    """The `stage.*` API methods; `focus` is `sessions.focus` (bring, focus, acknowledge)."""

    async def show(params: wire.SessionRef) -> wire.FocusedSession:
        return await keeper.api_show(params, focus)

    return {
        "stage.layout": keeper.api_layout,
        "stage.up": keeper.api_up,
        "stage.show": show,
        "stage.zoom": keeper.api_zoom,
        "stage.tower": keeper.api_tower,
    }
