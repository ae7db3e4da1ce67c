"""The engine's Unix socket server: framing, dispatch and event streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from sessions import wire
from sessions.engine.events import EventBus
from sessions.protocol import MAX_LINE, ApiError, decode, encode, peer_uid

log = logging.getLogger("podium.engine")

Handler = Callable[[Any], Awaitable[Any]]
# Told of a database error in a request: the engine ends the transaction and reloads
# what mirrors the database (`Engine.store_failed`), as for its own writes.
StoreFailed = Callable[[str, BaseException], None]


class ApiServer:
    """Serves `handlers` (method name → handler) of the methods in `methods` (the wire's
    table by default): params are decoded into the method's params Struct before the
    handler sees them, and its result is encoded as it is. A handler's database error
    goes to `store_failed` before the one-line reply."""

    def __init__(
        self,
        socket_path: Path,
        handlers: dict[str, Handler],
        bus: EventBus,
        methods: dict[str, wire.Method[Any, Any]] | None = None,
        store_failed: StoreFailed | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.handlers = handlers
        self.store_failed = store_failed
        self.methods = wire.METHODS if methods is None else methods
        self.bus = bus
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        # A socket file left by a killed engine: we hold the lock, so it is stale.
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.socket_path), limit=MAX_LINE
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not self._own_user(writer):
                return
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await self._reply(writer, None, error=ApiError("bad_request", "line too long"))
                    return
                if not line:
                    return
                try:
                    request = decode(line)
                except ValueError as exc:  # decode turns every parser failure into this
                    await self._reply(writer, None, error=ApiError("bad_request", str(exc)))
                    continue
                req_id = request.get("id")
                if not isinstance(req_id, str | int | float | None):
                    # Echoed in the reply: a nested value could be too deep to encode.
                    await self._reply(
                        writer, None, error=ApiError("bad_request", "id must be a number or string")
                    )
                    continue
                method = request.get("method")
                if method == wire.EVENTS_SUBSCRIBE.name:
                    await self._reply(writer, req_id, result=wire.Subscribed(subscribed=True))
                    await self._stream_events(writer)
                    return
                await self._dispatch(writer, req_id, method, request.get("params") or {})
        except (ConnectionError, BrokenPipeError):
            pass
        except Exception:  # one connection's fault never reaches the engine
            log.exception("connection failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    def _own_user(writer: asyncio.StreamWriter) -> bool:
        """Whether the peer runs as the engine's user (`SO_PEERCRED`). The socket is 0600
        in a 0700 directory; this holds even if those modes were changed under it."""
        sock = writer.get_extra_info("socket")
        try:
            uid = peer_uid(sock) if sock is not None else None
        except OSError:
            uid = -1
        if uid is None or uid == os.geteuid():
            return True
        log.warning("dropped a connection from uid %s", uid)
        return False

    async def _dispatch(
        self, writer: asyncio.StreamWriter, req_id: Any, method: Any, params: Any
    ) -> None:
        handler = self.handlers.get(method) if isinstance(method, str) else None
        spec = self.methods.get(method) if isinstance(method, str) else None
        if handler is None or spec is None:
            await self._reply(
                writer, req_id, error=ApiError("bad_request", f"unknown method {method!r}")
            )
            return
        if not isinstance(params, dict):
            await self._reply(
                writer, req_id, error=ApiError("bad_request", "params must be an object")
            )
            return
        try:
            typed = msgspec.convert(params, spec.params)
        except msgspec.ValidationError as exc:
            # msgspec names the field: "Expected `str`, got `int` - at `$.name`".
            message = " ".join(str(exc).split())
            await self._reply(writer, req_id, error=ApiError("bad_request", f"{method}: {message}"))
            return
        try:
            result = await handler(typed)
        except ApiError as exc:
            await self._reply(writer, req_id, error=exc)
        except duckdb.Error as exc:  # a full disk, a failed COMMIT: memory may be ahead
            if self.store_failed is not None:
                self.store_failed(f"request {method}", exc)
            else:
                log.error("request %s failed: %s", method, " ".join(str(exc).split()))
            message = " ".join(str(exc).split())
            await self._reply(
                writer,
                req_id,
                error=ApiError("internal", f"{method} failed: {message}; see the engine log"),
            )
        except Exception as exc:  # one error handler for every request
            log.exception("request %s failed", method)
            await self._reply(
                writer,
                req_id,
                error=ApiError("internal", f"{method} failed: {exc}; see the engine log"),
            )
        else:
            await self._reply(writer, req_id, result=result)

    async def _reply(
        self,
        writer: asyncio.StreamWriter,
        req_id: Any,
        *,
        result: Any = None,
        error: ApiError | None = None,
    ) -> None:
        if error is not None:
            message = {
                "id": req_id,
                "ok": False,
                "error": {"code": error.code, "message": error.message},
            }
        else:
            message = {"id": req_id, "ok": True, "result": result}
        writer.write(encode(message))
        await writer.drain()

    async def _stream_events(self, writer: asyncio.StreamWriter) -> None:
        queue = self.bus.subscribe()
        try:
            while True:
                message = await queue.get()
                if message is None:
                    return
                writer.write(encode(message))
                await writer.drain()
        finally:
            self.bus.unsubscribe(queue)
