"""Messages the engine link posts to the app (from its worker threads).

Posting a message is thread-safe in Textual; the app applies them on its own
thread, so no thread writes the app's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.message import Message

from sessions import wire


class EngineConnected(Message):
    """A (re)connection: a fresh listing and the engine's status."""

    def __init__(self, sessions: list[wire.Session], status: wire.Status) -> None:
        super().__init__()
        self.sessions = sessions
        self.status = status


class EngineEvent(Message):
    """One event of the engine's stream (a `sessions.wire.Event`)."""

    def __init__(self, event: wire.Event) -> None:
        super().__init__()
        self.event = event


class EngineLost(Message):
    """No engine answers; the link tries again in `retry_in` seconds."""

    def __init__(self, reason: str, retry_in: float, attempt: int) -> None:
        super().__init__()
        self.reason = reason
        self.retry_in = retry_in
        self.attempt = attempt


class EngineReply(Message):
    """The result of a job run for a caller (an engine request, or other blocking work:
    `PodiumApp.run_blocking`); `done` runs on the app's thread."""

    def __init__(self, done: Callable[[Any], None], result: Any) -> None:
        super().__init__()
        self.done = done
        self.result = result


class QueueChanged(Message):
    """A task or run of the background queue changed, or fill was switched or decided
    otherwise (an engine `queue` or `fill` event): a screen that shows the queue reads
    it again. Posted to the current screen."""
