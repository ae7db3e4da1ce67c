"""The engine's side of the cues: when to update tmux, when to alert.

`EngineCues` listens to the engine's own events (`EventBus.listen`):
`session`, `session_removed` and `tmux` make it bring podium's tmux server up
to date (at most once per REFRESH_DELAY, only the commands whose value
changed, in a worker thread); `attention` (an item opened, once per
transition) offers an alert to the storm guard. An alert leaves out the
sessions the person is looking at, and each kind given (or spared) is counted
in the `alerts` table for the attention report. Everything here runs on the
event loop thread; the worker threads only return values. A tmux failure is
logged and never reaches state tracking.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from collectors.paths import Paths
from collectors.settings import CuesSettings
from sessions.attention import AttentionBook
from sessions.claude_settings import podium_command
from sessions.cues import (
    Alert,
    AlertGate,
    Key,
    SessionCue,
    apply,
    deliver,
    desired_state,
    list_clients,
    looked_at,
    server_commands,
)
from sessions.engine.parts import Blocking, Spawn
from sessions.registry import Registry
from sessions.tmux import Tmux

log = logging.getLogger("podium.engine")
# Changes closer together than this reach tmux as one update.
REFRESH_DELAY = 0.1


class EngineCues:
    def __init__(
        self,
        *,
        tmux: Tmux,
        registry: Registry,
        attention: AttentionBook,
        paths: Paths,
        settings: CuesSettings,
        tower_window: str,
        started_at: float,
        blocking: Blocking,
        spawn: Spawn,
    ) -> None:
        self.tmux = tmux
        self.registry = registry
        self.attention = attention
        self.paths = paths
        self.tower_window = tower_window
        self.blocking = blocking
        self.spawn = spawn
        self.cfg = settings
        self.gate = AlertGate(
            coalesce_s=self.cfg.coalesce_s,
            session_quiet_s=self.cfg.session_quiet_s,
            per_minute=self.cfg.alerts_per_minute,
        )
        # Marks a tmux server as set up by this engine (and so by this config).
        self.token = f"{os.getpid()}:{started_at:.3f}"
        # The console script the keys run; it does not move while the engine runs.
        self.podium = podium_command()
        self.alerts_sent = 0
        self._applied: dict[Key, list[str]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._alert_timer: asyncio.TimerHandle | None = None
        self._running = False
        self._again = False
        self._check = True
        self._last_failed: list[list[str]] = []

    def on_event(self, event: str, data: dict[str, Any]) -> None:
        if event in ("session", "session_removed"):
            self.request_refresh()
        elif event == "tmux":
            # The server came or went: look at it even if no session changed.
            self.request_refresh(check=True)
        elif event == "attention":
            self._offer(data)

    # -- keeping tmux up to date -----------------------------------------------------
    def request_refresh(self, *, check: bool = False) -> None:
        self._check = self._check or check
        if self._running:
            self._again = True
            return
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._timer = loop.call_later(REFRESH_DELAY, self._start)

    def _start(self) -> None:
        self._timer = None
        self._running = True
        self.spawn(self._refresh(), "cues-refresh")

    def _setup(self, old_keys: list[str]) -> list[list[str]]:
        paths = self.paths
        return server_commands(
            self.cfg,
            tower_window=self.tower_window,
            podium=self.podium,
            env={"PODIUM_DATA_DIR": str(paths.data), "PODIUM_RUNTIME_DIR": str(paths.runtime)},
            token=self.token,
            old_keys=old_keys,
        )

    async def _refresh(self) -> None:
        try:
            records = self.registry.listed()
            sessions = [SessionCue(rec.number, rec.name, rec.state, rec.pane_id) for rec in records]
            desired = desired_state(sessions, self.cfg, self.podium)
            check, self._check = self._check, False
            if not check and all(self._applied.get(k) == v for k, v in desired.items()):
                return
            result = await self.blocking(
                apply, self.tmux, self.token, self._setup, desired, dict(self._applied)
            )
            self._applied = result.state
            if result.set_up:
                log.info("cues: set up tmux server %r", self.tmux.socket)
            if result.failed and result.failed != self._last_failed:
                log.warning(
                    "cues: %d tmux command(s) failed, first: %s",
                    len(result.failed),
                    " ".join(result.failed[0]),
                )
            self._last_failed = result.failed
        except Exception:
            log.exception("cues: updating tmux failed")
        finally:
            self._running = False
            if self._again:
                self._again = False
                self.request_refresh()

    # -- alerts ------------------------------------------------------------------------
    def _offer(self, data: dict[str, Any]) -> None:
        cfg = self.cfg
        if not (cfg.bell or cfg.message or cfg.notify != "off"):
            return
        try:
            opened = datetime.fromisoformat(str(data["opened_at"]))
            name, kind = str(data["session"]), str(data["kind"])
        except (KeyError, ValueError):
            log.warning("cues: attention event without its item: %r", data)
            return
        if (datetime.now(UTC) - opened).total_seconds() > cfg.stale_s:
            # Learnt late (hooks spooled while no engine ran): news, not an alarm.
            return
        # The event's "id" is the item's; the storm guard counts per session.
        rec = self.registry.by_name(name)
        if rec is not None and self.gate.offer(rec.id, name, kind):
            self._schedule_alert()

    def _schedule_alert(self) -> None:
        due = self.gate.next_due()
        if due is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # an engine driven without its loop (unit tests): no alerts
        if self._alert_timer is not None:
            self._alert_timer.cancel()
        self._alert_timer = loop.call_later(max(0.0, due - time.monotonic()), self._fire)

    def _fire(self) -> None:
        self._alert_timer = None
        self.spawn(self._alert(), "cues-alert")

    async def _alert(self) -> None:
        """Give the alert that is due, to a person who is not already looking.

        The clients are listed first (a worker thread): a session whose pane an
        attached client shows, in a terminal that has the focus, is left out of
        the alert and counted as spared; where a terminal has the focus, no
        desktop notification goes out (`cues.deliver`).
        """
        try:
            clients = await self.blocking(list_clients, self.tmux)
        except Exception:
            # Who looks is unknown: alert as if nobody did.
            log.exception("cues: listing tmux clients failed")
            clients = []
        spared: list[str] = []

        def wanted(session_id: str) -> bool:
            if self.attention.open_item(session_id) is None:
                return False  # answered or seen meanwhile
            rec = self.registry.get(session_id)
            if rec is not None and looked_at(rec.pane_id, clients):
                spared.append(session_id)
                return False
            return True

        alert = self.gate.take(wanted)
        self._schedule_alert()  # what the rate limit held back goes out later, as one
        now = datetime.now(UTC)
        if spared:
            self._record(now, "spared", spared, "looked at")
            log.info("cue: none for %s (looked at)", ", ".join(self._names(spared)))
        if alert is None:
            return
        self.alerts_sent += 1
        try:
            delivered = await self.blocking(deliver, self.tmux, alert, self.cfg, clients)
        except Exception:
            log.exception("cues: alert %r failed", alert.body)
            return
        for kind, how in delivered.received():
            self._record(now, kind, alert.session_ids, how)
        done = ", ".join(delivered.done) or "nobody attached, no notifier"
        log.info("cue: %s (%s)", alert.body, done)

    def notify(self, title: str, body: str) -> None:
        """A notice about no session (fill's morning report), given as alerts are, by
        `[cues]`: a message in each attached client, a desktop notification when none
        of their terminals has the focus. Not counted in `alerts` (no session waited)."""
        cfg = self.cfg
        if not (cfg.message or cfg.notify != "off"):
            return
        self.spawn(self._notice(Alert(title, body, ())), "cues-notice")

    async def _notice(self, alert: Alert) -> None:
        try:
            delivered = await self.blocking(deliver, self.tmux, alert, self.cfg)
        except Exception:
            log.exception("cues: notice %r failed", alert.body)
            return
        log.info("notice: %s (%s)", alert.body, ", ".join(delivered.done) or "no one to tell")

    def _record(self, at: datetime, kind: str, session_ids: Sequence[str], detail: str) -> None:
        """Count an alert for the attention report; counting never stops an alert."""
        try:
            self.attention.record_alert(at, kind, session_ids, detail)
        except duckdb.Error as exc:
            log.error("cues: counting a %s alert failed: %s", kind, " ".join(str(exc).split()))

    def _names(self, session_ids: Sequence[str]) -> list[str]:
        recs = (self.registry.get(sid) for sid in session_ids)
        return [rec.name if rec else sid for rec, sid in zip(recs, session_ids, strict=True)]
