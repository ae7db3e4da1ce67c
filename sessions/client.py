"""Talking to the engine from the CLI (and, through the same protocol, the TUI).

`connect()` finds the engine of the data dir and starts one when none runs:
every command works without a prior `podium engine start`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from collectors.paths import Paths, UnsafePath
from sessions.protocol import MAX_LINE, ApiError, decode, encode_request, peer_uid

if TYPE_CHECKING:
    import msgspec

    from sessions import wire

R = TypeVar("R")


# How often a starting engine is asked whether it answers: the person's first command
# waits for it, and a poll (a connect that is refused) costs well under a millisecond.
START_POLL_S = 0.005


class EngineUnavailable(Exception):
    """No engine answers and none could be started; the message says why."""


class EngineClient:
    """A blocking connection to the engine's socket.

    Nothing is sent before the process at the other end is known to run as this user
    (`SO_PEERCRED`): requests carry prompts and the environment a session gets."""

    def __init__(self, paths: Paths, timeout: float = 30.0) -> None:
        self.paths = paths
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(str(paths.socket))
            uid = peer_uid(self.sock)
        except BaseException:
            self.sock.close()
            raise
        if uid is not None and uid != os.geteuid():
            self.sock.close()
            raise EngineUnavailable(
                f"the engine socket {paths.socket} is served by uid {uid}, not you "
                f"({os.geteuid()}): remove it or set PODIUM_RUNTIME_DIR to a private directory"
            )
        self._buffer = b""
        self._ids = itertools.count(1)
        self._subscribed = False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _readline(self) -> bytes:
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EngineUnavailable("the engine closed the connection; see its log")
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE:
                raise EngineUnavailable("reply from the engine is too long")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def request(self, method: wire.Method[Any, R], params: msgspec.Struct | None = None) -> R:
        """Send one request of `sessions.wire`'s table; its result decoded into the
        method's result type, or `ApiError` (code `bad_reply` when the result does not
        fit the type: an engine of another version)."""
        # Typed callers only (the tower, `podium fill`): msgspec costs the plain
        # commands ~18 ms of start-up, which `call` spares them.
        import msgspec

        result = self.call(method.name, **(msgspec.to_builtins(params) if params else {}))
        try:
            return msgspec.convert(result, method.result)
        except msgspec.ValidationError as exc:
            raise ApiError("bad_reply", f"{method.name}: {exc}") from None

    def call(self, method: str, **params: Any) -> Any:
        """Send one request; return its result (plain JSON values) or raise `ApiError`.
        The CLI prints these; typed callers use `request`."""
        req_id = next(self._ids)
        self.sock.sendall(encode_request({"id": req_id, "method": method, "params": params}))
        reply = decode(self._readline())
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise ApiError(str(error.get("code", "error")), str(error.get("message", "failed")))
        return reply.get("result")

    def subscribe(self) -> None:
        """Turn this connection into an event stream, now; `events()` reads it.

        Separate from `events()` so that a caller can subscribe first and then
        fetch a snapshot on another connection without missing a change between.
        """
        self.call("events.subscribe")
        self.sock.settimeout(None)
        self._subscribed = True

    def events(self) -> Iterator[wire.Event]:
        """Subscribe (unless done) and yield events (`sessions.wire` Structs) until the
        engine goes away. An event this client does not know (a newer engine's) is
        skipped."""
        # Only event readers (the tower, `podium fill`) decode Structs: see `request`.
        import msgspec

        from sessions import wire  # msgspec Structs, as above

        if not self._subscribed:
            self.subscribe()
        while True:
            try:
                line = self._readline()
            except EngineUnavailable:
                return
            try:
                yield wire.decode_event(line)
            except (msgspec.ValidationError, msgspec.DecodeError):
                continue


def try_connect(paths: Paths, timeout: float = 30.0) -> EngineClient | None:
    """A client of the running engine; None when none listens. `EngineUnavailable`
    when the socket or its directory is not this user's alone (checked without
    following symlinks, before connecting)."""
    try:
        if not paths.check_socket():
            return None
    except UnsafePath as exc:
        raise EngineUnavailable(str(exc)) from None
    try:
        return EngineClient(paths, timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    except PermissionError as exc:
        raise EngineUnavailable(
            f"cannot open the engine socket {paths.socket}: {exc.strerror}; "
            "it belongs to another user or has wrong permissions"
        ) from None


def connect(paths: Paths, *, start: bool = True, start_timeout: float = 15.0) -> EngineClient:
    """A client of the running engine, starting one on demand."""
    client = try_connect(paths)
    if client is not None:
        return client
    if not start:
        raise EngineUnavailable("the engine is not running; start it with `podium engine start`")
    start_engine(paths, start_timeout)
    client = try_connect(paths)
    if client is None:
        raise EngineUnavailable(f"the engine started but its socket {paths.socket} is missing")
    return client


def start_engine(paths: Paths, timeout: float = 15.0) -> int:
    """Start an engine for `paths` and wait until it answers; returns its pid."""
    # subprocess and the lock helpers only when no engine answered: a command that
    # finds one running never needs them.
    from sessions.lifecycle import last_log_line, lock_holder, spawn_engine

    holder = lock_holder(paths)
    proc = None
    if holder is None:
        try:
            proc = spawn_engine(paths)
        except UnsafePath as exc:
            raise EngineUnavailable(str(exc)) from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = try_connect(paths, timeout=5)
        if client is not None:
            with client:
                return int(client.call("ping")["pid"])
        if proc is not None and proc.poll() is not None:
            # It died: a second racer won the lock (fine), or a real failure.
            holder = lock_holder(paths)
            if holder is None:
                why = last_log_line(paths) or f"exit code {proc.returncode}"
                raise EngineUnavailable(
                    f"the engine failed to start: {why} (log: {paths.engine_log})"
                )
            proc = None
        time.sleep(START_POLL_S)
    pid = lock_holder(paths)
    raise EngineUnavailable(
        f"the engine (pid {pid}) did not answer within {timeout:.0f} s; "
        f"see {paths.engine_log}, or stop it with `podium engine stop`"
    )


def stop_engine(paths: Paths, timeout: float = 10.0) -> int | None:
    """Stop the engine of `paths`; returns the pid it had, None when none ran."""
    # Loaded when used, as in `start_engine`.
    from sessions.lifecycle import lock_holder

    pid = lock_holder(paths)
    if pid is None:
        return None
    client = try_connect(paths, timeout=5)
    if client is not None:
        with client, contextlib.suppress(ApiError, EngineUnavailable, OSError):
            client.call("shutdown")
    deadline = time.monotonic() + timeout
    signalled = client is not None
    while time.monotonic() < deadline:
        if lock_holder(paths) is None:
            return pid
        if not signalled and pid > 0:
            # Not answering: ask the process itself.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)
            signalled = True
        time.sleep(0.05)
    raise EngineUnavailable(f"the engine (pid {pid}) did not stop within {timeout:.0f} s")
