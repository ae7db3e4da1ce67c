"""Fan-out of engine events to subscribed clients (all on the event loop thread)."""

from __future__ import annotations

import asyncio
from typing import Any

# A slow client must not make the engine hold unbounded memory: past this many
# undelivered events it is dropped and reconnects.
QUEUE_LIMIT = 1000


class EventBus:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._queues.discard(queue)

    def publish(self, event: str, data: dict[str, Any]) -> None:
        message = {"event": event, "data": data}
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
