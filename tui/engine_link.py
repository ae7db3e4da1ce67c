"""The control tower's one link to the engine: the only module that uses `EngineClient`.

Blocking socket work runs in NAMED Textual thread workers:
- `engine events`: connects (starting an engine on demand, as every podium
  command does), subscribes to the event stream, then takes a snapshot of the
  sessions on a second connection (so no change falls between), and posts
  every event as a Textual message. When the engine goes away it posts
  `EngineLost` and tries again with a growing pause (backoff), forever,
  starting a new engine from the third attempt on: a crashed engine comes
  back. An engine stopped on request (`podium engine stop`, which announces
  it) is not started again by the tower; it reconnects when someone starts one.
- `engine <job>`: one request (or a few) on a connection of its own, whose
  result comes back to the caller as an `EngineReply` on the app's thread.

A failing job raises out of its worker; the app's single worker error handler
reports it (`PodiumApp.on_worker_state_changed`). Threads never touch the
app's state: they only post messages.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient, EngineUnavailable, connect, try_connect
from sessions.protocol import ApiError
from tui.messages import EngineConnected, EngineEvent, EngineLost, EngineReply

if TYPE_CHECKING:
    from textual.app import App

T = TypeVar("T")
Request = Callable[..., Any]
"""`EngineClient.request(method, params)`: a `sessions.wire` method's typed result."""
Job = Callable[[Request], T]

# Pauses between reconnection attempts, in seconds; the last one repeats.
BACKOFF = (1.0, 1.0, 2.0, 3.0, 5.0)
# From this attempt on, a missing engine is started again: a crashed engine comes
# back, while a restart someone is doing by hand (stop, start) gets a moment first.
RESTART_FROM_ATTEMPT = 2


STOPPED_ON_REQUEST = (
    "it was stopped (`podium engine stop`); `podium engine start` brings it back, "
    "and the tower reconnects by itself"
)


@dataclass(frozen=True)
class _Ended:
    """How one connection of the events thread ended."""

    reason: str
    connected: bool = False  # it got as far as the session listing
    requested: bool = False  # the engine said it stops because it was asked to


class Link(Protocol):
    """What the app needs from an engine link (a fixed one stands in for snapshots)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def run(self, name: str, job: Job[Any], done: Callable[[Any], None] | None = None) -> None:
        """Run `job(request)` away from the app's thread; `done(result)` runs on it after."""

    def run_last(self, job: Job[Any]) -> None:
        """Run `job(request)` on this thread, best effort: the app is leaving and no
        worker would run after it."""


def call_job(method: wire.Method[Any, T], params: msgspec.Struct | None = None) -> Job[T]:
    """A job of one request."""
    return lambda request: request(method, params)


class EngineLink:
    """Connection management for `PodiumApp`; see the module docstring."""

    def __init__(
        self,
        app: App[Any],
        paths: Paths,
        start_timeout: float = 15.0,
        backoff: Sequence[float] = BACKOFF,
    ) -> None:
        self.app = app
        self.paths = paths
        self.start_timeout = start_timeout
        self.backoff = tuple(backoff)  # the pauses between attempts (tests give short ones)
        self._stopping = threading.Event()
        # The socket the events thread blocks on, so that stop() can wake it.
        self._lock = threading.Lock()
        self._stream: EngineClient | None = None

    # -- the event stream --------------------------------------------------------
    def start(self) -> None:
        self.app.run_worker(
            self._follow_events,
            name="engine events",
            group="engine-events",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def stop(self) -> None:
        """Stop the events thread (it may be blocked reading: shut its socket)."""
        self._stopping.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.sock.shutdown(socket.SHUT_RDWR)

    def _follow_events(self) -> None:
        attempt = 0
        held = False  # stopped on request: only an engine someone else starts will do
        while not self._stopping.is_set():
            start = not held and (attempt == 0 or attempt >= RESTART_FROM_ATTEMPT)
            ended = self._stream_once(start)
            if self._stopping.is_set():
                return
            if ended.connected:
                attempt, held = 0, False
            held = held or ended.requested
            pause = self.backoff[min(attempt, len(self.backoff) - 1)]
            attempt += 1
            # While held, each failed attempt is "not running" again: the person
            # still needs to read why and what brings it back.
            reason = STOPPED_ON_REQUEST if held else ended.reason
            self.app.post_message(EngineLost(reason, pause, attempt))
            self._stopping.wait(pause)

    def _stream_once(self, start: bool) -> _Ended:
        """Follow one connection until it ends; says why it ended."""
        try:
            if start:
                # Like every podium command, the tower starts an engine when none runs.
                client = connect(self.paths, start=True, start_timeout=self.start_timeout)
            else:
                client = _connect_or_raise(self.paths)
        except EngineUnavailable as exc:
            return _Ended(str(exc))
        except OSError as exc:
            return _Ended(f"cannot reach the engine: {exc.strerror or exc}")
        with self._lock:
            self._stream = client
        connected = False
        try:
            if self._stopping.is_set():
                # stop() ran before the socket was known: it could not wake us.
                return _Ended("stopping")
            client.subscribe()
            with _connect_or_raise(self.paths) as snapshot:
                sessions = snapshot.request(wire.SESSIONS_LIST)
                status = snapshot.request(wire.STATUS)
            connected = True
            self.app.post_message(EngineConnected(sessions, status))
            for event in client.events():
                if isinstance(event, wire.EngineEvent) and event.data.requested:
                    return _Ended(STOPPED_ON_REQUEST, connected=True, requested=True)
                self.app.post_message(EngineEvent(event))
        except (EngineUnavailable, ApiError, OSError, ValueError) as exc:
            return _Ended(f"lost the engine: {exc}", connected=connected)
        finally:
            with self._lock:
                self._stream = None
            client.close()
        return _Ended("the engine went away", connected=connected)

    # -- requests ------------------------------------------------------------------
    def run(self, name: str, job: Job[Any], done: Callable[[Any], None] | None = None) -> None:
        self.app.run_worker(
            lambda: self._run_job(job, done),
            name=f"engine {name}",
            group="engine-jobs",
            thread=True,
            exit_on_error=False,
        )

    def run_last(self, job: Job[Any]) -> None:
        with (
            contextlib.suppress(EngineUnavailable, ApiError, OSError, ValueError),
            _connect_or_raise(self.paths) as client,
        ):
            job(client.request)

    def _run_job(self, job: Job[Any], done: Callable[[Any], None] | None) -> Any:
        with _connect_or_raise(self.paths) as client:
            result = job(client.request)
        if done is not None:
            self.app.post_message(EngineReply(done, result))
        return result


def _connect_or_raise(paths: Paths) -> EngineClient:
    client = try_connect(paths, timeout=10.0)
    if client is None:
        raise EngineUnavailable("the engine is not running (podium reconnects by itself)")
    return client
