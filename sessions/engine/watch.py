"""Watching panes between hooks: screens, processes, and how often to look.

Each sweep the engine hands the live sessions (with their `list-panes` line)
to `PaneWatch.look`, which returns `Sighting`s: what a screen profile or the
process tree says now. The engine turns them into changes with the pure rules
of `sessions.state` against the session's state at that moment.

Hooked sessions (claude, sim) get their state from hooks, but no hook fires
when the person presses Esc during a turn, says No at a dialog or accepts the
trust dialog. So while a hooked session is in a state that only an event ends
(`sessions.state.WATCHED_STATES`: starting, busy, retrying, permission) its
screen is read too: the watchdog. A verdict that contradicts the state is
applied only when two captures, both taken after the state began and at least
`CONFIRM_AFTER` apart, agree on it: a hook races the screen by a few frames
(the prompt is still drawn when UserPromptSubmit arrives), and the second
look is scheduled at once so a correction lands within about 1.5 s of the
screen.

What it costs is the point of this module:
- `capture-pane` runs only for sessions whose agent has a profile that is in
  use (claude/sim without working hooks, or in a watched state) and whose window showed output
  since the last capture, all in one tmux call. tmux's `#{window_activity}` is
  a time in whole seconds, updated on any output whether or not
  `monitor-activity` is on (checked on tmux 3.3a), and shared by the panes of
  a window: a pane is captured again while its window's last output is not
  older than the second of the last capture.
- a screen whose tail is unchanged (hash) is not matched again, and a screen's
  verdict is reported only when the tail changed.
- the process tree is sampled (one pass, in a worker thread) only for panes
  whose last screen matched no rule and whose profile asks for it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import duckdb

from collectors.settings import EngineSettings, ProfileSettings
from sessions import wire
from sessions.activity import ActivityMeter
from sessions.agents import HOOKED_AGENTS
from sessions.engine.parts import Blocking
from sessions.profiles import TYPED_DETAIL, Observation, Profile, build_profiles
from sessions.registry import SessionRecord
from sessions.state import WATCHED_STATES, Change, Source, State, from_process, from_screen
from sessions.tmux import PaneInfo, Tmux

log = logging.getLogger("podium.engine")

# The watchdog's second look: this long after the first that disagreed.
CONFIRM_AFTER = 0.3
# Text in the input box in a turn's first seconds is the prompt just sent, not yet taken
# by the agent (a loaded machine is slow to take it), not a person taking over.
TYPED_GRACE = 3.0


@dataclass(frozen=True)
class Sighting:
    """What one pane showed this sweep: a screen verdict, or process activity."""

    session_id: str
    screen: Observation | None = None
    busy: bool | None = None
    quiet: State = State.WAITING
    # A hooked session's screen, read because its state waits on an event.
    watchdog: bool = False

    def change(self, current: State) -> Change | None:
        if self.screen is not None:
            source = Source.WATCHDOG if self.watchdog else Source.SCREEN
            return from_screen(current, self.screen.shows, self.screen.detail, source=source)
        if self.busy is not None:
            return from_process(current, busy=self.busy, quiet=self.quiet)
        return None


@dataclass
class _Seen:
    """What the watch remembers of one session's pane between sweeps."""

    activity: int = -1  # #{window_activity} at the last capture
    captured_at: float = 0.0  # wall-clock time the last capture started
    digest: int | None = None  # hash of the last screen tail
    matched: bool = False  # the last screen matched a rule (no process sampling)
    # Watchdog: the last verdict, and a contradiction waiting for its second look.
    observation: Observation | None = None
    doubt: _Doubt | None = None


@dataclass(frozen=True)
class _Doubt:
    """A screen that contradicted a hooked session's state, seen once."""

    observation: Observation
    state: str  # the state it contradicted, and since when (epoch s)
    since: float
    first: float | None  # start of the first capture after `since` that showed it


@dataclass
class WatchStats:
    sweeps: int = 0
    capture_calls: int = 0  # tmux invocations
    screens: int = 0  # panes captured
    process_samples: int = 0
    last_captures: int = 0  # panes captured by the latest sweep
    interval: float = 0.0  # the sweep loop's current gap


def stats_wire(stats: WatchStats) -> wire.WatchStats:
    """The counters as `engine.status` shows them (the gap rounded to milliseconds)."""
    return wire.WatchStats(
        sweeps=stats.sweeps,
        capture_calls=stats.capture_calls,
        screens_captured=stats.screens,
        process_samples=stats.process_samples,
        last_sweep_captures=stats.last_captures,
        sweep_interval=round(stats.interval, 3),
    )


class PaneWatch:
    """Screens and processes of the live panes. Used on the loop thread only."""

    def __init__(
        self,
        tmux: Tmux,
        conn: duckdb.DuckDBPyConnection,
        blocking: Blocking,
        settings: EngineSettings,
        profiles: dict[str, ProfileSettings],
    ) -> None:
        self.tmux = tmux
        self.conn = conn
        self.blocking = blocking
        self.settings = settings
        self.profiles: dict[str, Profile] = build_profiles(profiles)
        self.meter = ActivityMeter()
        self.stats = WatchStats()
        self._seen: dict[str, _Seen] = {}
        self._last_hook: dict[str, float] = {}  # session id -> epoch s of its last hook event
        self._looked_up: set[str] = set()  # sessions whose hook history was read from the db
        self._heard = False
        # A contradiction awaits its second look: the engine sweeps again in CONFIRM_AFTER.
        self.recheck = False

    # -- hooks --------------------------------------------------------------------
    def hook_seen(self, session_id: str, at: float | None = None) -> None:
        """A hook event of `session_id` arrived: its hooks work, and something moves."""
        self._last_hook[session_id] = at or time.time()
        self._heard = True

    def take_heard(self) -> bool:
        """Whether a hook event arrived since the last call (resets the sweep backoff)."""
        heard, self._heard = self._heard, False
        return heard

    def _hooks_work(self, rec: SessionRecord, profile: Profile, now: float) -> bool:
        """True while podium's hooks speak (or may still) for this session.

        A session launched without podium's settings file has none. One with it
        gets `hooks_silent_after` seconds for a first event; after that without
        any, its screen is read. A restarted engine looks the history up once.
        """
        if rec.agent not in HOOKED_AGENTS:
            return False
        if not rec.settings_path:
            return False
        if rec.id in self._last_hook:
            return True
        if profile.hooks_silent_after is None:
            return True
        if now - rec.created_at.timestamp() < profile.hooks_silent_after:
            return True
        if rec.id not in self._looked_up:
            self._looked_up.add(rec.id)
            row = self.conn.execute(
                "SELECT max(ts) FROM hook_events WHERE session_id = ?", [rec.id]
            ).fetchone()
            if row and row[0] is not None:
                self._last_hook[rec.id] = row[0].timestamp()
                return True
            wait = profile.hooks_silent_after
            log.info("%s: no hook event within %.0fs; reading its screen", rec.name, wait)
        return False

    # -- one sweep ----------------------------------------------------------------
    async def look(self, live: list[tuple[SessionRecord, PaneInfo]]) -> tuple[list[Sighting], bool]:
        """Sightings for the live panes, and whether a watched screen changed or a tree worked."""
        self.stats.sweeps += 1
        self.recheck = False
        now = time.time()
        watched: list[tuple[SessionRecord, PaneInfo, Profile, _Seen, bool]] = []
        for rec, pane in live:
            profile = self.profiles.get(rec.agent)
            if profile is None:
                continue
            watchdog = self._hooks_work(rec, profile, now)
            if watchdog and State(rec.state) not in WATCHED_STATES:
                continue
            seen = self._seen.get(rec.id) or _Seen()
            watched.append((rec, pane, profile, seen, watchdog))
        self._seen = {rec.id: seen for rec, _, _, seen, _ in watched}

        due = [w for w in watched if w[3].doubt is not None or _due(w[3], w[1], now)]
        screens: dict[str, str] = {}
        started = time.time()
        if due:
            self.stats.capture_calls += 1
            screens = await self.blocking(
                self.tmux.capture_screens, [pane.pane_id for _, pane, _, _, _ in due]
            )
            for _, pane, _, seen, _ in due:
                seen.activity, seen.captured_at = pane.window_activity, started
        self.stats.screens += len(screens)
        self.stats.last_captures = len(screens)

        sightings: list[Sighting] = []
        lively = False
        for rec, pane, profile, seen, watchdog in watched:
            text = screens.get(pane.pane_id)
            if text is not None:
                tail = profile.tail(text)
                digest = hash(tail)
                if digest != seen.digest:
                    seen.digest = digest
                    lively = True  # typing or output: a state change may be near
                    seen.observation = profile.observe(tail)
                    seen.matched = seen.observation is not None
                    if seen.observation is not None and not watchdog:
                        sightings.append(Sighting(rec.id, screen=seen.observation))
            if watchdog:
                found = self._doubt(rec, seen, captured=text is not None, at=started)
                if found is not None:
                    sightings.append(found)

        pending = [
            (rec, pane, profile)
            for rec, pane, profile, seen, watchdog in watched
            if profile.process and not watchdog and not seen.matched and pane.pid
        ]
        if pending:
            self.stats.process_samples += 1
            activity = await self.blocking(self.meter.sample, [pane.pid for _, pane, _ in pending])
            threshold = self.settings.busy_cpu
            for rec, pane, profile in pending:
                act = activity.get(pane.pid or 0)
                busy = act.busy(threshold, children_busy=profile.children_busy) if act else None
                if busy is None:
                    continue
                lively = lively or busy
                sightings.append(Sighting(rec.id, busy=busy, quiet=profile.quiet))
        return sightings, lively or self.recheck

    def _doubt(
        self, rec: SessionRecord, seen: _Seen, *, captured: bool, at: float
    ) -> Sighting | None:
        """The watchdog's verdict on a hooked session.

        A sighting once a contradiction of its state was seen on two captures taken
        after the state began, CONFIRM_AFTER apart; until then the doubt is kept (which
        makes the pane due for capture) and a second look is asked for."""
        observed = seen.observation
        since = rec.state_since.timestamp()
        sighting = Sighting(rec.id, screen=observed, watchdog=True)
        if observed is None or sighting.change(State(rec.state)) is None:
            seen.doubt = None
            return None
        if observed.detail == TYPED_DETAIL and rec.state == State.BUSY and at - since < TYPED_GRACE:
            seen.doubt = None
            self.recheck = True  # looked at again: still there after the grace, it counts
            return None
        doubt = seen.doubt
        if doubt is None or (doubt.observation.shows, doubt.state, doubt.since) != (
            observed.shows,
            rec.state,
            since,
        ):
            doubt = _Doubt(observed, rec.state, since, first=None)
        # A capture that started before the state began may show the screen before it.
        if captured and at >= since:
            if doubt.first is None:
                doubt = replace(doubt, first=at)
            elif at - doubt.first >= CONFIRM_AFTER:
                seen.doubt = None
                return sighting
        seen.doubt = doubt
        self.recheck = True
        return None


def _due(seen: _Seen, pane: PaneInfo, now: float) -> bool:
    """Whether the pane may have changed since its last capture."""
    if pane.window_activity != seen.activity:
        return True
    # `window_activity` counts whole seconds: output later in the same second as the last
    # capture leaves it unchanged, so look once more until a capture postdates that second.
    return seen.captured_at < pane.window_activity + 1


class Backoff:
    """The gap between two sweeps: the base while anything moves, growing while all is quiet.

    Why the cap on quiet is low: a screen-only agent must be seen within 1.5 s of a
    change, also when a person wakes a quiet one by typing straight into its pane, so
    the gap grows only up to `maximum` (1.5 s by default) once every session is quiet.
    A quiet sweep is cheap (its reads come from memory), so this costs little; anything
    sent through podium wakes the sweep at once, and every spool event or state change
    resets the gap.
    """

    def __init__(self, base: float, maximum: float, factor: float) -> None:
        self.base = base
        self.maximum = max(base, maximum)
        self.factor = factor
        self.interval = base

    def next(self, lively: bool) -> float:
        """The gap before the next sweep, after one that found `lively` (or not)."""
        if lively:
            self.interval = self.base
        else:
            self.interval = min(self.maximum, self.interval * self.factor)
        return self.interval
