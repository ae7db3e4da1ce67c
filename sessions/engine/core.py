"""The engine: owns the DuckDB file, watches the spool and tmux, serves the API.

Everything that touches the database or engine state runs on the event loop
thread. Blocking work (tmux commands) runs in worker threads through
`self.blocking`, which only returns values: threads never write shared state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import duckdb
import watchfiles

from collectors.limit_text import parse_reset
from collectors.paths import Paths
from collectors.settings import Settings
from collectors.spool_reader import SpoolReader
from collectors.store import open_store, rollback
from collectors.tail import CursorStore
from sessions import __version__, wire
from sessions.agents import claude_session_id
from sessions.attention import AttentionBook, AttentionItem, attention_wire, waited_s
from sessions.engine.cues import EngineCues
from sessions.engine.doing import DoingBook
from sessions.engine.events import EventBus
from sessions.engine.messages_api import MessagesApi, messages_handlers
from sessions.engine.queue_api import QueueApi, queue_handlers
from sessions.engine.reports_api import ReportsApi, reports_handlers
from sessions.engine.review_agent import ReviewAgent
from sessions.engine.server import ApiServer
from sessions.engine.sessions_api import SessionApi, sessions_handlers
from sessions.engine.stage import StageKeeper, stage_handlers
from sessions.engine.start import Prepared, StoreOpening, prepare
from sessions.engine.team_api import TeamApi, team_handlers
from sessions.engine.tmux_server import ServerWatch
from sessions.engine.transcripts import Today, TranscriptIngest
from sessions.engine.tree_api import TreeApi, tree_handlers
from sessions.engine.usage import UsageMonitor
from sessions.engine.usage_api import UsageApi, usage_handlers
from sessions.engine.watch import CONFIRM_AFTER, Backoff, PaneWatch, stats_wire
from sessions.fill.queue import QueueStore
from sessions.fill.runner import Runner
from sessions.fill.scheduler import Scheduler
from sessions.launch import read_failure
from sessions.messages import MessageStore
from sessions.queued_prompt import QueuedPrompts
from sessions.registry import Registry, SessionRecord
from sessions.stage import TOWER_ROLE
from sessions.state import (
    FINAL_STATES,
    WATCHED_STATES,
    Change,
    Event,
    Source,
    State,
    decide,
    from_hook,
    from_pane,
)
from sessions.tmux import PaneInfo, Tmux, TmuxError

log = logging.getLogger("podium.engine")
T = TypeVar("T")
# Seconds after a pane's death during which its exit status is looked for.
EXIT_STATUS_WINDOW = 60.0
# States in which a session is expected to change soon: the sweep keeps its base pace.
# Sessions in these states keep the sweep at its base pace: busy ones change, and the
# watchdog of the others must see an Esc or a No within two seconds.
_MOVING = frozenset(s.value for s in WATCHED_STATES)
# Spool records stored per transaction: their events and the spool offsets after
# them are committed together, so a crash or a failed write (a full disk) re-reads
# the batch, never stores an event twice and never skips one.
SPOOL_BATCH = 500
# A write that fails on what one record holds (not on the disk or the database):
# retrying the same record would fail for ever.
_RECORD_ERRORS = (duckdb.DataError, duckdb.IntegrityError, duckdb.InvalidInputException)


class Engine:
    def __init__(self, paths: Paths, settings: Settings) -> None:
        self.paths = paths
        self.settings = settings
        self.tmux = Tmux(
            settings.tmux.socket,
            settings.tmux.config,
            source_user_conf=settings.tmux.source_user_conf,
        )
        # Which server runs, and the last one that exited under this engine.
        self.server = ServerWatch(settings.tmux.socket)
        self.bus = EventBus()
        self.started_at = time.time()
        self.hook_stats = {"events": 0, "unknown_session": 0, "bad": 0}
        self._stop = asyncio.Event()
        self._mutex = asyncio.Lock()
        self._lock_fd: int | None = None
        self._store_opening: StoreOpening | None = None
        self._sweep_wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dead_without_status: dict[str, float] = {}
        # Panes a person looked at during the last sweep (None before the first).
        self._focused_panes: set[str] | None = None
        self.tmux_alive: bool | None = None
        # Each listed session's tokens and cost of the local day, as of the last
        # transcript pass (`TranscriptIngest.refresh_today`).
        self.today: dict[str, Today] = {}
        # Prompts sent while a turn ran, and the Stop held while one waits to run.
        self.queued_prompts = QueuedPrompts()
        # How many messages wait for a session (`MessagesApi.waiting`, once `handlers`
        # made it; none before).
        self._messages_waiting: Callable[[str], int] = lambda _session_id: 0
        # What each session is doing (a tool, its last line), from its hooks; built
        # here, as every session's JSON shows it, and filled by `open_data`.
        self.doing = DoingBook(
            listed=lambda: self.registry.listed(),
            publish_session=self.publish_session,
            blocking=self.blocking,
            spawn=self.spawn,
        )

    # -- lifecycle ----------------------------------------------------------
    async def run(self, prepared: Prepared | None = None) -> None:
        """Run until asked to stop. `python -m sessions.engine` took the lock and began
        opening the store before this module loaded (`prepared`, see
        `sessions.engine.start`); otherwise (tests) that is done here."""
        prepared = prepared or prepare(self.paths, open_store_early=False)
        self._lock_fd = prepared.lock_fd
        self._store_opening = prepared.store
        self.open_data()
        self.scheduler = self._scheduler()  # the background queue and fill mode
        self.api = ApiServer(
            self.paths.socket, self.handlers(), self.bus, store_failed=self.store_failed
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self._stop.set)
        # Catch up before serving: hooks spooled while no engine ran, panes that
        # ended or vanished meanwhile.
        self.read_spool()
        await self.sweep()
        await self.scheduler.start()  # adopts live background runs before anyone asks
        # Messages that waited while no engine ran: to the sessions at rest now.
        self.messages.deliver_waiting()
        await self.api.start()
        self.transcripts.start()
        log.info("engine %s ready: pid %d, socket %s", __version__, os.getpid(), self.paths.socket)
        tasks = [
            asyncio.create_task(self._watch_spool(), name="spool-watcher"),
            asyncio.create_task(self._sweep_loop(), name="tmux-sweeper"),
            asyncio.create_task(self.usage.run(), name="usage-tick"),
            asyncio.create_task(self.review_agent.run(), name="review-weekly"),
        ]
        try:
            await self._stop.wait()
        finally:
            log.info("engine stopping")
            # Spawned ones too (fill's loops): none may touch the store once it closes.
            tasks += [*self._tasks, *self.scheduler.watchers()]
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.bus.close()
            await self.api.close()
            self.read_spool()
            await self.transcripts.close()
            self.conn.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)

    def open_data(self) -> None:
        """Open the database and the parts that mirror it in memory; each part gets
        the collaborators it uses, never the engine."""
        opening, self._store_opening = self._store_opening, None
        conn = self.conn = opening.result() if opening is not None else open_store(self.paths.db)
        settings = self.settings
        self.registry = Registry(conn)
        self.attention = AttentionBook(conn)
        self.watch = PaneWatch(self.tmux, conn, self.blocking, settings.engine, settings.profiles)
        # Cues in tmux (keys, border titles, counts, alerts) follow the engine's events.
        self.cues = EngineCues(
            tmux=self.tmux,
            registry=self.registry,
            attention=self.attention,
            paths=self.paths,
            settings=settings.cues,
            tower_window=settings.ui.tower_window,
            started_at=self.started_at,
            blocking=self.blocking,
            spawn=self.spawn,
        )
        self.bus.listen(self.cues.on_event)
        self.stage = StageKeeper(
            conn=conn,
            registry=self.registry,
            tmux=self.tmux,
            bus=self.bus,
            paths=self.paths,
            ui=settings.ui,
            tmux_settings=settings.tmux,
            blocking=self.blocking,
            session_json=self.session_json,
            publish_session=self.publish_session,
            order=settings.attention.order,
        )
        self.doing.load(conn)
        self.spool = SpoolReader(self.paths.spool, CursorStore(conn))
        self.transcripts = TranscriptIngest(
            conn=conn,
            registry=self.registry,
            bus=self.bus,
            blocking=self.blocking,
            publish_session=self.publish_session,
            today=self.today,
            prices=settings.prices,
            scratch_dir=self.paths.data,
            # Late-bound: the usage monitor is made next (it takes the passes' refresh).
            record_limits=lambda samples: self.usage.record(samples),
        )
        # Limit figures and the per-minute usage series.
        self.usage = UsageMonitor(
            conn=conn,
            registry=self.registry,
            bus=self.bus,
            settings=settings.usage,
            blocking=self.blocking,
            store_failed=self.store_failed,
            refresh_today=self.transcripts.refresh_today,
        )

    def _scheduler(self) -> Scheduler:
        store = QueueStore(self.conn)
        runner = Runner(
            store,
            tmux=self.tmux,
            paths=self.paths,
            agents=self.settings.agents,
            fill=self.settings.fill,
            tmux_settings=self.settings.tmux,
            blocking=self.blocking,
            record_usage=self.usage.record,
            may_start_server=self.server.may_start,
            full_until=self.usage.full_until,
            # What a share budget ("5%week") is in weighted tokens, as the policy counts.
            capacity=self.usage.capacity,
        )
        return Scheduler(
            store,
            runner,
            conn=self.conn,
            registry=self.registry,
            usage=self.usage,
            bus=self.bus,
            settings=self.settings.fill,
            blocking=self.blocking,
            spawn=self.spawn,
            notify=self.cues.notify,
        )

    def handlers(self) -> dict[str, Any]:
        """The API's method table, each namespace from the part that serves it."""
        queue = QueueApi(self.scheduler, self.bus)
        reports = ReportsApi(
            self.conn,
            self.attention,
            self.scheduler.store,
            self.blocking,
            reserve_schedule=self.scheduler.reserve_schedule,
            # Late-bound: the review agent is made next, from this API's review.
            model_findings=lambda: self.review_agent.latest(),
        )
        # The agent's review queues through the queue API (its checks and events) and
        # reads its answer when the task's run ends.
        self.review_agent = ReviewAgent(
            folder=self.paths.data / "reviews",
            settings=self.settings.review,
            store=self.scheduler.store,
            blocking=self.blocking,
            spawn=self.spawn,
            queue_add=queue.add,
            compute=lambda params: reports.review_and_digest(
                params, transcripts=self.settings.review.agent_transcripts
            ),
            fill_enabled=lambda: self.scheduler.enabled,
        )
        self.bus.listen(self.review_agent.on_event)
        sessions = SessionApi(
            registry=self.registry,
            attention=self.attention,
            tmux=self.tmux,
            bus=self.bus,
            stage=self.stage,
            paths=self.paths,
            agents=self.settings.agents,
            statusline=self.settings.statusline,
            tmux_settings=self.settings.tmux,
            sessions=self,
            mutex=self._mutex,
            blocking=self.blocking,
            spawn=self.spawn,
            wake_sweeper=self.wake_sweeper,
            order=self.settings.attention.order,
        )
        teams = TeamApi(queue, self.paths.data)
        # A team's report is written when its last node's run ends (a bus event).
        self.bus.listen(teams.listen)
        # A session's messages go in when its turn ends: it follows the session events.
        messages = self.messages = MessagesApi(
            store=MessageStore(self.conn),
            registry=self.registry,
            queue=lambda: self.scheduler.store,
            tmux=self.tmux,
            bus=self.bus,
            sessions=self,
            profiles=lambda: self.watch.profiles,
            blocking=self.blocking,
            spawn=self.spawn,
            wake_sweeper=self.wake_sweeper,
        )
        self.bus.listen(messages.on_event)
        self._messages_waiting = messages.waiting
        return {
            "ping": self.api_ping,
            "status": self.api_status,
            "shutdown": self.api_shutdown,
            **sessions_handlers(sessions),
            **stage_handlers(self.stage, sessions.focus),
            **usage_handlers(UsageApi(self.usage, self.transcripts, self.conn, self.blocking)),
            **reports_handlers(reports),
            **queue_handlers(queue),
            **tree_handlers(TreeApi(queue)),
            **team_handlers(teams),
            **messages_handlers(messages),
            "reports.review_agent": self.review_agent.queue,
        }

    # -- the engine's own methods -------------------------------------------------
    async def api_ping(self, params: wire.NoParams) -> wire.Ping:
        return wire.Ping(pid=os.getpid(), version=__version__)

    async def api_status(self, params: wire.NoParams) -> wire.Status:
        sessions = self.registry.listed()
        spool = self.spool.stats
        return wire.Status(
            pid=os.getpid(),
            version=__version__,
            data_dir=str(self.paths.data),
            socket=str(self.paths.socket),
            db=str(self.paths.db),
            started_at=self.started_at,
            uptime_s=round(time.time() - self.started_at, 1),
            tmux_socket=self.tmux.socket,
            tmux_alive=self.tmux_alive,
            tmux_pid=self.server.pid,
            tmux_exit=self.server.exit_wire(),
            sessions=len(sessions),
            hooks=dict(self.hook_stats),
            spool=wire.SpoolStatus(
                lines=spool.lines,
                bad_lines=spool.bad_lines,
                skipped_files=spool.skipped_files,
                problems=list(spool.problems),
            ),
            watch=stats_wire(self.watch.stats),
            usage_ticks=self.usage.ticks,
            fill_rounds=self.scheduler.rounds,
        )

    async def api_shutdown(self, params: wire.NoParams) -> wire.Stopping:
        # Subscribers learn it was asked for (a control tower then does not start a
        # new engine, as it would after a crash). Reply first, then stop.
        self.bus.publish(wire.EngineEvent(data=wire.EngineStopping(stopping=True, requested=True)))
        asyncio.get_running_loop().call_later(0.05, self.request_stop)
        return wire.Stopping(stopping=True, pid=os.getpid())

    def store_failed(self, what: str, exc: BaseException) -> None:
        """A write on the loop's connection failed (a full disk, a failed COMMIT or
        ROLLBACK): end the transaction and reload every cache that mirrors the
        database, so memory is not ahead of it and the next pass re-reads what did
        not land. The one place such failures end up. (Transcript passes write
        through their own cursor and reload their cursors themselves.)"""
        rollback(self.conn)
        log.error("%s failed, will retry: %s", what, " ".join(str(exc).split()))
        try:
            self.registry.reload()
            self.attention.reload()
            self.spool.cursors.reload()
            self.usage.reload()
        except duckdb.Error as again:
            log.error("reloading from the database failed: %s", " ".join(str(again).split()))
            return
        # Subscribers may have been told of changes that were rolled back.
        for rec in self.registry.listed():
            self.publish_session(rec)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run a named background task; the engine keeps it alive and logs its failure."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    def request_stop(self) -> None:
        self._stop.set()

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (tmux, process scans) in a worker thread."""
        return await asyncio.to_thread(fn, *args)

    # -- state changes ------------------------------------------------------
    def change_state(
        self,
        rec: SessionRecord,
        change: Change,
        at: datetime | None = None,
        *,
        limit_text: str = "",
        close_as: str = "",
    ) -> None:
        """Apply a transition: store it, follow attention, tell subscribers.

        `limit_text` is the agent's usage-limit message, whose reset time a
        `limited` session carries; `close_as` says how an open attention item
        closes when it is not the default (answered, or ended).
        """
        if not self.registry.apply(rec, change, at):
            return
        log.info("%s: %s (%s: %s)", rec.name, rec.state, change.source, change.detail)
        resets_at = None
        if change.state is State.LIMITED:
            # The agent's words first; else the official figures of a full window.
            resets_at = parse_reset(limit_text or change.detail, rec.state_since)
            resets_at = resets_at or self.usage.full_until(rec.state_since)
        if resets_at != rec.limit_resets_at:
            rec.limit_resets_at = resets_at
            self.registry.update(rec.id, limit_resets_at=resets_at)
        item = self.attention.on_state(
            rec.id, change.state, rec.state_since, change.detail, close_as
        )
        self.publish_session(rec)
        if item is not None:
            self.attention_opened(rec, item)

    def attention_opened(self, rec: SessionRecord, item: AttentionItem) -> None:
        """A session started to need the human: tell subscribers (cues follow from here)."""
        self.bus.publish(
            wire.AttentionEvent(
                data=wire.from_record(
                    item, wire.OpenedItem, waited_s=waited_s(item), session=rec.name
                )
            )
        )

    def acknowledge(self, rec: SessionRecord, by: str, *, input_sent: bool = False) -> bool:
        """The human saw (focus) or answered (send) the session: close its item.

        The state table says what follows (events `input` and `looked`): input
        makes the agent `busy` (its hooks or profile confirm or correct that); a
        finished turn that was seen becomes `seen`: still the person's move, not
        `idle` (nothing to do), and it keeps its place in the order. A permission
        dialog or a limit stays what it is: it is still true, only seen.
        """
        item = self.attention.close(rec.id, datetime.now(UTC), by)
        state = State(rec.state)
        change = None
        if input_sent:
            change = decide(state, Event.INPUT, Source.USER, f"input ({by})")
        elif item is not None:
            # Looked at only when there was something to see: an open item.
            change = decide(state, Event.LOOKED, Source.USER, f"seen ({by})")
        if change is not None:
            self.change_state(rec, change)
        elif item is not None:
            self.publish_session(rec)
        return item is not None

    def session_json(self, rec: SessionRecord) -> wire.Session:
        """A session as the API shows it: the record, its open attention item,
        `on_stage` (beside the tower; None while there is no stage), its usage
        today (from the usage log, as of the last transcript pass) and what it is
        doing (from its hooks)."""
        item = self.attention.open_item(rec.id)
        today = self.today.get(rec.id)
        return wire.from_record(
            rec,
            wire.Session,
            attention=attention_wire(item) if item else None,
            on_stage=self.stage.on_stage(rec.id),
            tokens_today=today.tokens if today else None,
            cost_today_usd=today.cost_usd if today else None,
            doing=self.doing.doing(rec),
            messages_waiting=self._messages_waiting(rec.id),
        )

    def publish_session(self, rec: SessionRecord) -> None:
        self.bus.publish(wire.SessionEvent(data=self.session_json(rec)))
        self.doing.published(rec.id)

    # -- spool --------------------------------------------------------------
    def read_spool(self) -> int:
        """Apply the new spool records, SPOOL_BATCH per transaction with the offsets
        after them. A failed write stores none of the batch and leaves its lines in
        the spool for the next call. A batch that fails on its data (not on the disk)
        is read again one record per transaction: a record that cannot be stored on
        its own is counted bad and passed over, so one line never blocks the spool."""
        count = 0
        single = 0  # records still to take one by one after a batch failed on its data
        while True:
            size = 1 if single else SPOOL_BATCH
            taken = 0
            counted = dict(self.hook_stats)  # a batch that is not stored will be read again
            try:
                self.conn.execute("BEGIN TRANSACTION")
                for record in self.spool.read_new(limit=size):
                    taken += 1
                    try:
                        self.apply_spool_record(record)
                    except duckdb.Error:
                        raise  # the transaction is aborted: the whole batch again
                    except Exception:  # a bad line must never stop the engine
                        self._count_bad("bad", "cannot apply a spool line", exc_info=True)
                self.conn.execute("COMMIT")
            except _RECORD_ERRORS as exc:
                self.hook_stats.update(counted)
                self.store_failed("storing spool lines", exc)
                if size > 1:
                    single = SPOOL_BATCH  # find the record, then batches again
                    continue
                if not self._pass_over_spool_record(exc):
                    return count  # the next call tries again
                single -= 1
                continue
            except (duckdb.Error, OSError) as exc:
                self.hook_stats.update(counted)
                self.store_failed("storing spool lines", exc)
                return count
            except BaseException as exc:
                self.store_failed("storing spool lines", exc)
                raise
            count += taken
            single = max(0, single - taken)
            if taken < size:
                return count

    def _pass_over_spool_record(self, exc: BaseException) -> bool:
        """Move the spool cursor past the next record, which cannot be stored;
        False when even that write failed."""
        try:
            self.conn.execute("BEGIN TRANSACTION")
            for _record in self.spool.read_new(limit=1):
                pass
            self.conn.execute("COMMIT")
        except (duckdb.Error, OSError) as again:
            self.store_failed("passing over a spool line", again)
            return False
        self._count_bad("bad", f"cannot store a spool line, passed over: {exc}")
        return True

    def apply_spool_record(self, record: dict[str, Any]) -> None:
        kind = record.get("kind")
        payload = record.get("payload")
        at_raw = record.get("at")
        at = datetime.fromtimestamp(at_raw, UTC) if isinstance(at_raw, (int, float)) else None
        if not isinstance(payload, dict):
            # A payload the hook could not decode, too deep or too big (`truncated`):
            # counted, never state.
            why = f" ({record['reason']})" if isinstance(record.get("reason"), str) else ""
            self._count_bad("bad", f"{kind} line without a JSON object: {record.get('error')}{why}")
            return
        rec = self._session_for(record.get("podium_session"), payload.get("session_id"))
        if kind == "hook":
            self.hook_stats["events"] += 1
            event = str(record.get("event") or payload.get("hook_event_name") or "")
            self.conn.execute(
                "INSERT INTO hook_events (ts, session_id, claude_session_id, event, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    at or datetime.now(UTC),
                    rec.id if rec else None,
                    payload.get("session_id"),
                    event,
                    _json(payload),
                ],
            )
            self.usage.on_hook(event, payload, at)  # limit texts are account-wide
            if rec is None:
                self._count_bad(
                    "unknown_session",
                    f"{event} hook for an unknown session "
                    f"(podium {record.get('podium_session')!r}, "
                    f"claude {payload.get('session_id')!r})",
                )
                return
            self.watch.hook_seen(rec.id, at_raw if isinstance(at_raw, (int, float)) else None)
            self._learn_claude_ids(rec, payload)
            self.doing.on_hook(rec, event, payload)
            state = State(rec.state)
            held = self.queued_prompts.holds(rec.id, event, state)
            change = from_hook(state, event, payload)
            if held and change is not None:
                self.queued_prompts.hold(rec.id, change)
                log.info("%s: Stop; the prompt sent during its turn runs next", rec.name)
                change = None
            if change is not None and at is not None and at < rec.state_since:
                # Written before the state we hold was decided (a dialog's late
                # notification read after the human answered): history, not news.
                change = None
            if change is not None:
                message = payload.get("last_assistant_message")
                limit_text = message if isinstance(message, str) else ""
                self.change_state(rec, change, at, limit_text=limit_text)
        elif kind == "statusline":
            self.usage.on_statusline(payload, at)  # rate_limits are account-wide
            if rec is not None:
                self._learn_claude_ids(rec, payload)

    def _count_bad(self, kind: str, message: str, exc_info: bool = False) -> None:
        """Count a bad or unmatched spool line; log the first few and then every 100th,
        so that a misbehaving hook cannot fill the disk with the same line."""
        self.hook_stats[kind] += 1
        count = self.hook_stats[kind]
        if count <= 5 or count % 100 == 0:
            log.warning("%s (%s #%d)", message, kind, count, exc_info=exc_info)

    def _session_for(self, podium_id: Any, claude_id: Any) -> SessionRecord | None:
        if isinstance(podium_id, str) and podium_id:
            rec = self.registry.get(podium_id)
            if rec is not None:
                return rec
        if isinstance(claude_id, str) and claude_id:
            return self.registry.by_claude_session(claude_id)
        return None

    def _learn_claude_ids(self, rec: SessionRecord, payload: dict[str, Any]) -> None:
        # A session id that is not a UUID is ignored: whatever runs in the pane can
        # write hook lines, and the id goes back to `claude --resume=ID`.
        sid = claude_session_id(payload.get("session_id"))
        transcript = payload.get("transcript_path")
        fields: dict[str, Any] = {}
        if sid and sid != rec.claude_session_id:
            rec.claude_session_id = fields["claude_session_id"] = sid
        if isinstance(transcript, str) and transcript and transcript != rec.transcript_path:
            rec.transcript_path = fields["transcript_path"] = transcript
        if fields:
            self.registry.update(rec.id, **fields)
            self.publish_session(rec)

    async def _watch_spool(self) -> None:
        # step=10 ms: a hook line should reach the state within a few tens of ms.
        async for _changes in watchfiles.awatch(
            self.paths.spool,
            debounce=200,
            step=10,
            stop_event=self._stop,
            recursive=False,
            force_polling=False,
        ):
            self.read_spool()

    # -- tmux sweep -----------------------------------------------------------
    async def sweep(self) -> bool:
        """One `list-panes -a`: pane deaths, vanished panes, pids (for sessions and, through
        `fill.after_sweep`, background runs); then screens and processes.

        Returns whether anything moves (a change, a session busy or starting, a watched
        screen that changed): the sweep loop keeps its pace then, else it backs off.
        """
        # Under the mutex that launches hold: a session started while `list-panes`
        # runs is not in its answer, and must not be taken for a vanished one.
        async with self._mutex:
            taken = time.monotonic()  # a pane spawned before this is in the answer
            try:
                panes = await self.blocking(self.tmux.list_panes)
            except TmuxError as exc:
                log.warning("tmux sweep failed: %s", exc)
                return False
            alive = bool(panes) or await self.blocking(self.tmux.alive)
            pid = next((p.server_pid for p in panes if p.server_pid), None)
            # The sessions that had a pane in the server seen last: lost if it went.
            held = [r.name for r in self.registry.listed() if r.pane_id and r.state != State.LOST]
            tower = any(p.role == TOWER_ROLE for p in panes)
            if self.server.saw(alive, pid, held, tower=tower):
                self.tmux_alive = alive
                self.bus.publish(wire.TmuxEvent(data=self.server.state_wire()))
            moved, live = await self._follow_panes(panes)
        # Background runs learn their panes' deaths from this sweep too: one poller.
        self.scheduler.after_sweep(panes, taken)
        self._follow_limits()
        self._follow_focus(panes)
        # The stage looks only when its window, size or panes changed; a move is lively.
        staged = await self.stage.after_sweep(panes)
        return await self._watch_panes(live) or moved or staged

    async def _follow_panes(
        self, panes: list[PaneInfo]
    ) -> tuple[bool, list[tuple[SessionRecord, PaneInfo]]]:
        """Registry ← one `list-panes`: moves, deaths, vanished panes. Whether a state
        changed, and the sessions still running with their panes."""
        by_pane = self._adopt(panes)
        moved = False
        live: list[tuple[SessionRecord, PaneInfo]] = []
        for rec in self.registry.listed():
            pane = by_pane.get(rec.pane_id or "")
            if pane is not None and (pane.window_id, pane.pid) != (rec.window_id, rec.pid):
                # Moved by join-pane/break-pane (the stage) or respawned: ids follow.
                rec.window_id, rec.pid = pane.window_id, pane.pid
                self.registry.update(rec.id, window_id=pane.window_id, pid=pane.pid)
            if pane is not None and pane.dead and rec.exit_code is None:
                await self._learn_exit_code(rec, pane)
            if rec.state == State.LOST:
                continue
            # An exited session still goes on to `lost` when its pane vanishes:
            # a killed pane's agent often reports its own end (SessionEnd) first.
            change = from_pane(
                State(rec.state),
                present=pane is not None,
                dead=bool(pane and pane.dead),
                dead_status=rec.exit_code if pane and pane.dead else None,
            )
            if change is not None:
                self.change_state(rec, change)
                moved = True
            elif pane is not None and State(rec.state) not in FINAL_STATES:
                live.append((rec, pane))
        return moved, live

    async def _watch_panes(self, live: list[tuple[SessionRecord, PaneInfo]]) -> bool:
        """Screen profiles and process activity of the live panes → state changes."""
        sightings, lively = await self.watch.look(live)
        if self.watch.recheck:  # the watchdog doubts a state: its second look
            self.wake_sweeper_soon(CONFIRM_AFTER)
        current = {rec.id: rec for rec, _ in live}
        if sightings:
            # Fresh records: hooks and API calls ran while the captures were awaited.
            current = {rec.id: rec for rec in self.registry.listed()}
            for sighting in sightings:
                rec = current.get(sighting.session_id)
                if rec is None or State(rec.state) in FINAL_STATES:
                    continue
                change = sighting.change(State(rec.state))
                # The prompt bare after a held Stop: that turn ended by itself after all.
                screen = sighting.screen if sighting.watchdog else None
                bare = change is not None and screen is not None and screen.shows == "waiting"
                change = self.queued_prompts.settle(rec.id, bare) or change
                if change is not None:
                    self.change_state(rec, change)
                    lively = True
        return lively or any(r.state in _MOVING for r in current.values())

    def _adopt(self, panes: list[PaneInfo]) -> dict[str, PaneInfo]:
        """Panes by id, with the registry reconciled to tmux's `@podium_session` tags.

        A pane id names a pane only within one tmux server's life: after a
        restart of tmux a new pane may get an old id. A pane not tagged with
        the session's id is not its pane; a tagged pane whose session had been
        given up (lost) is re-adopted with its current ids.
        """
        by_pane = {p.pane_id: p for p in panes}
        by_tag = {p.podium_session: p for p in panes if p.podium_session and not p.dead}
        for rec in self.registry.listed():
            pane = by_pane.get(rec.pane_id or "")
            if pane is not None and pane.podium_session != rec.id:
                # Someone else's pane now (or a new server's pane, untagged): ours is gone.
                rec.pane_id = None
                self.registry.update(rec.id, pane_id=None)
            tagged = by_tag.get(rec.id)
            if tagged is not None and rec.state == State.LOST:
                rec.pane_id, rec.window_id, rec.pid = tagged.pane_id, tagged.window_id, tagged.pid
                rec.tmux_session_id = tagged.session_id
                self.registry.update(
                    rec.id,
                    pane_id=tagged.pane_id,
                    window_id=tagged.window_id,
                    pid=tagged.pid,
                    tmux_session_id=tagged.session_id,
                    ended_at=None,
                )
                rec.ended_at = None
                back = decide(State(rec.state), Event.PANE_BACK, Source.TMUX, "pane re-adopted")
                if back is not None:
                    self.change_state(rec, back)
        return by_pane

    def _follow_limits(self) -> None:
        """A limited session whose reset time has passed can work again."""
        now = datetime.now(UTC)
        for rec in self.registry.listed():
            if rec.limit_resets_at is None or rec.limit_resets_at > now:
                continue
            reset = decide(State(rec.state), Event.LIMIT_RESET, Source.ENGINE, "limit reset")
            if reset is not None:
                self.change_state(rec, reset, close_as="reset")

    def _follow_focus(self, panes: list[PaneInfo]) -> None:
        """Acknowledge items whose pane a person is looking at.

        Looking means: the pane is shown in an attached client and either it
        came into view after the item opened, or a key was typed into that
        tmux session since. A pane that was already on screen when its item
        opened is not "seen" until the person does something: they may be away.
        """
        focused = {p.pane_id: p for p in panes if p.focused}
        before, self._focused_panes = self._focused_panes, set(focused)
        if before is None:
            return
        for item in self.attention.open_items():
            rec = self.registry.get(item.session_id)
            pane = focused.get(rec.pane_id or "") if rec else None
            if rec is None or pane is None:
                continue
            if pane.pane_id not in before or pane.session_activity > item.opened_at.timestamp():
                self.acknowledge(rec, "focus")

    async def _learn_exit_code(self, rec: SessionRecord, pane: PaneInfo) -> None:
        """Record a dead pane's exit status once tmux knows it.

        tmux can mark a pane dead (pty closed) before it has reaped the
        process, and under load `#{pane_dead_status}` sometimes stays empty
        while tmux's own "Pane is dead (status N …)" line shows it; that line
        is the fallback. Looked for during EXIT_STATUS_WINDOW seconds only.
        """
        status = pane.dead_status
        # By pane and program: a pane respawned in place (`podium resume`) keeps its id.
        death = f"{pane.pane_id}:{pane.pid}"
        if status is None:
            first = self._dead_without_status.setdefault(death, time.monotonic())
            if time.monotonic() - first > EXIT_STATUS_WINDOW:
                return
            status = self._launch_failure_status(rec)
            if status is None:
                status = await self.blocking(self.tmux.dead_status_from_screen, pane.pane_id)
            if status is None:
                self.wake_sweeper_soon(0.5)
                return
        self._dead_without_status.pop(death, None)
        rec.exit_code = status
        self.registry.update(rec.id, exit_code=status)
        self.publish_session(rec)

    def _launch_failure_status(self, rec: SessionRecord) -> int | None:
        """The status `sessions.launch` left when it could not start the agent."""
        failure = read_failure(self.paths.runtime / f"launch-{rec.id}.json")
        if failure is None:
            return None
        log.info("%s: could not start: %s", rec.name, failure[1])
        return failure[0]

    def wake_sweeper(self) -> None:
        self._sweep_wakeup.set()

    def wake_sweeper_soon(self, delay: float = 0.1) -> None:
        asyncio.get_running_loop().call_later(delay, self._sweep_wakeup.set)

    async def _sweep_loop(self) -> None:
        cfg = self.settings.engine
        backoff = Backoff(cfg.sweep_interval, cfg.sweep_max_interval, cfg.sweep_backoff)
        while not self._stop.is_set():
            self.watch.stats.interval = backoff.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sweep_wakeup.wait(), backoff.interval)
            # A wake-up is an API call or a launch: something is about to move.
            lively = self._sweep_wakeup.is_set()
            self._sweep_wakeup.clear()
            try:
                lively = await self.sweep() or lively
                # Belt and braces if a file event was missed.
                lively = self.read_spool() > 0 or lively
            except duckdb.Error as exc:  # a write failed (a full disk): memory is ahead
                self.store_failed("the sweep", exc)
            except Exception:
                log.exception("sweep failed")
            backoff.next(lively or self.watch.take_heard())


def _json(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:
        # A lone surrogate ("\\ud800" in a payload, which JavaScript writes): DuckDB
        # refuses it raw and escaped alike, so it becomes U+FFFD.
        text = _SURROGATE.sub("\ufffd", text)
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")
