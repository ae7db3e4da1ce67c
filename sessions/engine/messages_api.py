"""The engine's message methods (`messages.*`) and the delivery of a session's messages.

Posting stores a message (`sessions.messages.MessageStore`) under the sender the engine
knows: the session whose `PODIUM_SESSION_ID` the caller has, the task of its
`PODIUM_QUEUE_TASK`, or the person (`podium post`). A task's messages and a team's
board wait to be read (`inbox`).

A session's messages are typed into it as its next prompt, and only between turns:
- only while its state says the turn is over (`waiting`, `seen`, `idle`): never while
  it is busy, retrying, at a permission dialog, limited or gone. A message posted
  while it works waits for the turn-end (the Stop hook's state change, a `session`
  event on the bus), and the messages pending then go together, in one prompt;
- only when its screen shows the empty input box (its screen profile's `waiting`
  verdict). Text in the box means the person is typing there (or Esc put a prompt
  back): podium does not type into it, and tries again later (`RETRY_S`) and at the
  next turn end. A screen that is still being drawn is looked at again for a moment
  (`SETTLE_S`).
Typing it counts as input (the session goes busy, as for `podium send`), marks the
messages delivered and read, and publishes a `message` event: the tower shows it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sessions import wire
from sessions.agents import HOOKED_AGENTS
from sessions.engine.events import EventBus
from sessions.engine.parts import Blocking, Sessions, Spawn
from sessions.fill.queue import QueueStore, Task
from sessions.messages import (
    MessageError,
    MessageStore,
    check_body,
    parse_recipient,
    prompt_text,
)
from sessions.profiles import Profile
from sessions.protocol import ApiError
from sessions.registry import Registry, SessionRecord
from sessions.state import FINAL_STATES, State
from sessions.tmux import Tmux, TmuxError

log = logging.getLogger("podium.engine.messages")

# A session's states in which its turn is over: a message may go in.
AT_REST = frozenset({State.WAITING, State.SEEN, State.IDLE})
# Task states whose run may still read its inbox.
OPEN_TASK_STATES = ("queued", "running", "deferred")
# How long a session at rest whose screen does not show the empty box yet (still being
# drawn) is looked at again, and how often.
SETTLE_S = 3.0
LOOK_EVERY_S = 0.2
# After a look that found the box not empty (the person is typing), or no box: the next try.
RETRY_S = 5.0


def messages_handlers(api: MessagesApi) -> dict[str, Any]:
    return {
        "messages.post": api.post,
        "messages.inbox": api.inbox,
        "messages.list": api.list,
    }


class MessagesApi:
    def __init__(
        self,
        *,
        store: MessageStore,
        registry: Registry,
        queue: Callable[[], QueueStore],
        tmux: Tmux,
        bus: EventBus,
        sessions: Sessions,
        profiles: Callable[[], dict[str, Profile]],
        blocking: Blocking,
        spawn: Spawn,
        wake_sweeper: Callable[[], None],
    ) -> None:
        self.store = store
        self.registry = registry
        self.queue = queue
        self.tmux = tmux
        self.bus = bus
        self.sessions = sessions
        self.profiles = profiles
        self.blocking = blocking
        self.spawn = spawn
        self.wake_sweeper = wake_sweeper
        # How many messages wait to be typed into each session (read from the store at
        # first use): the bus's many session events must not each ask the database.
        self._pending: dict[str, int] | None = None
        self._delivering: set[str] = set()
        self._retry_set: set[str] = set()

    # -- who is who -----------------------------------------------------------------------
    def _task(self, task_id: int, what: str) -> Task:
        task = self.queue().get(task_id)
        if task is None:
            raise ApiError("not_found", f"{what}: no task {task_id}; `podium queue ls` lists them")
        return task

    def _root(self, task_id: int) -> int:
        """The root of the task's tree: its team's id."""
        seen = {task_id}
        task = self._task(task_id, f"task {task_id}")
        while task.parent_id is not None and task.parent_id not in seen:
            parent = self.queue().get(task.parent_id)
            if parent is None:
                break
            seen.add(parent.id)
            task = parent
        return int(task.id)

    def _sender(self, params: wire.PostParams) -> tuple[str, str | None, int | None]:
        """(name, session id, task id) of the sender, from its identity, never its word."""
        if params.from_session:
            rec = self.registry.get(params.from_session)
            if rec is None:
                raise ApiError("not_found", "the calling session is not one podium knows")
            return rec.name, rec.id, None
        if params.from_task is not None:
            self._task(params.from_task, "the calling task")
            return f"task {params.from_task}", None, params.from_task
        if params.from_person:
            return "you", None, None
        raise ApiError(
            "refused",
            "podium does not know who sends this: post from a session or task podium "
            "started, or with `podium post`",
        )

    # -- methods --------------------------------------------------------------------------
    async def post(self, params: wire.PostParams) -> wire.Message:
        try:
            body = check_body(params.text)
            to = parse_recipient(params.to)
        except MessageError as exc:
            raise ApiError("bad_request", str(exc)) from None
        sender, s_session, s_task = self._sender(params)
        if to.kind == "session":
            rec = self.registry.by_name(to.name)
            if rec is None:
                raise ApiError("not_found", f"no session named '{to.name}'; `sessions` lists them")
            if State(rec.state) in FINAL_STATES:
                raise ApiError(
                    "gone", f"session '{rec.name}' has {rec.state}: nobody would read it"
                )
            if rec.agent not in HOOKED_AGENTS:
                raise ApiError(
                    "refused",
                    f"session '{rec.name}' runs {rec.agent}: podium delivers messages only to "
                    "Claude sessions, whose turns it can tell apart",
                )
            if rec.id == s_session:
                raise ApiError("bad_request", "that is this session itself")
            to_id, to_name = rec.id, rec.name
        elif to.kind == "task":
            assert to.task_id is not None
            task = self._task(to.task_id, f"task:{to.task_id}")
            if task.state not in OPEN_TASK_STATES:
                raise ApiError(
                    "gone", f"task {task.id} is {task.state}: no run of it will read its inbox"
                )
            to_id, to_name = str(task.id), f"task:{task.id}"
        else:
            if to.task_id is None:
                if s_task is None:
                    raise ApiError(
                        "bad_request",
                        "`team` alone names the calling task's own team; say team:ID "
                        "(the id of the team's first task)",
                    )
                root = self._root(s_task)
            else:
                self._task(to.task_id, f"team:{to.task_id}")
                root = self._root(to.task_id)
            to_id, to_name = str(root), f"team:{root}"
        message = self.store.add(
            sender=sender,
            sender_session=s_session,
            sender_task=s_task,
            to_kind=to.kind,
            to_id=to_id,
            to_name=to_name,
            body=body,
        )
        log.info("message %d from %s to %s", message.id, sender, to_name)
        self.bus.publish(wire.MessageEvent(data=wire.MessageNote(kind="posted", message=message)))
        if to.kind == "session":
            pending = self._pending_counts()
            pending[to_id] = pending.get(to_id, 0) + 1
            self._publish(to_id)
            self.kick(to_id)
        return message

    async def inbox(self, params: wire.InboxParams) -> wire.Inbox:
        if params.session_id:
            rec = self.registry.get(params.session_id)
            if rec is None:
                raise ApiError("not_found", "the calling session is not one podium knows")
            found = self.store.inbox(
                "session", rec.id, unread_only=params.unread_only, limit=params.limit
            )
            self.store.mark_read([m.id for m in found if m.read_at is None])
            return wire.Inbox(reader=rec.name, messages=found)
        if params.task_id is not None:
            task = self._task(params.task_id, "the calling task")
            root = self._root(task.id)
            own = self.store.inbox(
                "task", str(task.id), unread_only=params.unread_only, limit=params.limit
            )
            board = self.store.board(
                root, task.id, unread_only=params.unread_only, limit=params.limit
            )
            found = sorted([*own, *board], key=lambda m: m.id)[-params.limit :]
            self.store.mark_read([m.id for m in found if m.read_at is None], task.id)
            return wire.Inbox(reader=f"task {task.id}", messages=found, team=root)
        raise ApiError(
            "refused",
            "an inbox belongs to a session or task podium started; "
            "`podium messages` shows the person every message",
        )

    async def list(self, params: wire.MessagesListParams) -> list[wire.Message]:
        session_id = None
        if params.session:
            rec = self.registry.by_name(params.session) or self.registry.last_by_name(
                params.session
            )
            if rec is None:
                raise ApiError("not_found", f"no session named '{params.session}'")
            session_id = rec.id
        return self.store.listing(
            session_id=session_id, task_id=params.task_id, team=params.team, limit=params.limit
        )

    # -- delivery -------------------------------------------------------------------------
    def _pending_counts(self) -> dict[str, int]:
        if self._pending is None:
            self._pending = self.store.pending_counts()
        return self._pending

    def waiting(self, session_id: str) -> int:
        """How many messages wait to be typed into the session (`wire.Session`)."""
        return self._pending_counts().get(session_id, 0)

    def _publish(self, session_id: str) -> None:
        """The session's row changes with what waits for it: the tower shows the count."""
        rec = self.registry.get(session_id)
        if rec is not None:
            self.sessions.publish_session(rec)

    def on_event(self, name: str, data: dict[str, Any]) -> None:
        """A bus event (`EventBus.listen`): a session at rest with messages gets them."""
        if name == "session" and data.get("state") in AT_REST:
            self.kick(str(data.get("id")))

    def deliver_waiting(self) -> None:
        """At the engine's start: each session at rest gets what waits for it (no turn
        end may come: it ended while no engine ran)."""
        for session_id in list(self._pending_counts()):
            self.kick(session_id)

    def kick(self, session_id: str) -> None:
        """Deliver the session's pending messages now if it is at rest (at most one
        delivery per session at a time)."""
        if session_id in self._delivering or session_id not in self._pending_counts():
            return
        rec = self.registry.get(session_id)
        if rec is None or State(rec.state) not in AT_REST:
            return
        self._delivering.add(session_id)
        self.spawn(self._deliver(session_id), f"deliver-messages-{session_id}")

    def _retry_later(self, session_id: str) -> None:
        if session_id in self._retry_set:
            return
        self._retry_set.add(session_id)

        def again() -> None:
            self._retry_set.discard(session_id)
            self.kick(session_id)

        asyncio.get_running_loop().call_later(RETRY_S, again)

    async def _deliver(self, session_id: str) -> None:
        try:
            rec = await self._ready(session_id)
            if rec is None:
                return
            pending = self.store.pending(session_id)
            if not pending:
                self._pending_counts().pop(session_id, None)
                return
            text = prompt_text(pending)
            try:
                await self.blocking(self.tmux.send_text, rec.pane_id or "", text)
            except TmuxError as exc:
                log.warning("%s: typing its messages failed: %s", rec.name, exc)
                self.wake_sweeper()
                return
            at = self.store.mark_delivered([m.id for m in pending])
            self._pending_counts().pop(session_id, None)
            self.wake_sweeper()
            # Input, as `podium send`: the session goes busy until its hooks say more
            # (and its row, published then, shows no message waiting).
            self.sessions.acknowledge(rec, "message", input_sent=True)
            for message in pending:
                message.delivered_at = at
                message.read_at = message.read_at or at
                note = wire.MessageNote(kind="delivered", message=message)
                self.bus.publish(wire.MessageEvent(data=note))
            log.info("%s: %d message(s) typed in", rec.name, len(pending))
        finally:
            self._delivering.discard(session_id)

    async def _ready(self, session_id: str) -> SessionRecord | None:
        """The session once its screen shows the empty input box; None when it is not
        at rest any more, or the box holds text, or no box showed within `SETTLE_S`
        (then a retry is planned)."""
        deadline = time.monotonic() + SETTLE_S
        while True:
            rec = self.registry.get(session_id)
            if rec is None or State(rec.state) not in AT_REST or not rec.pane_id:
                return None  # the next turn end brings it back
            profile = self.profiles().get(rec.agent)
            if profile is None:
                return None
            try:
                screen = await self.blocking(self.tmux.capture, rec.pane_id)
            except TmuxError:
                return None
            seen = profile.observe(profile.tail(screen))
            if seen is not None and seen.shows == "waiting":
                # Captured a moment ago: the state may have moved meanwhile.
                rec = self.registry.get(session_id)
                return rec if rec is not None and State(rec.state) in AT_REST else None
            if seen is not None and seen.shows == "interrupted":
                # A draft in the box, the rewind menu: the person is there, not done.
                log.info("%s: %s; its messages wait", rec.name, seen.detail)
                self._retry_later(session_id)
                return None
            if time.monotonic() >= deadline:
                self._retry_later(session_id)
                return None
            await asyncio.sleep(LOOK_EVERY_S)
