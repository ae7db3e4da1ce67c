"""Fan-out of engine events to subscribed clients (all on the event loop thread)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from sessions import wire

log = logging.getLogger("podium.engine")

# A slow client must not make the engine hold unbounded memory: past this many
# undelivered events it is dropped and reconnects.
QUEUE_LIMIT = 1000


class EventBus:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []

    def listen(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call `listener(event, data)` on every event, inside the engine (the cues).

        It runs synchronously in `publish`, so it must only take note and
        schedule; its failure is logged and never reaches the publisher.
        """
        self._listeners.append(listener)

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._queues.discard(queue)

    def publish(self, event: wire.Event) -> None:
        """Send `event` (a `sessions.wire` event Struct) to every listener and subscriber.

        Listeners get the event's name and its data as plain JSON values."""
        message = msgspec.to_builtins(event)
        name, data = message["event"], message["data"]
        for listener in self._listeners:
            try:
                listener(name, data)
            except Exception:
                log.exception("event listener failed on %s", event)
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._queues.discard(queue)
                queue.put_nowait(None) if not queue.full() else None

    def close(self) -> None:
        for queue in list(self._queues):
            if not queue.full():
                queue.put_nowait(None)
        self._queues.clear()
