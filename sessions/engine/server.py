"""The engine's Unix socket server: framing, dispatch and event streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sessions.engine.events import EventBus
from sessions.engine.protocol import MAX_LINE, ApiError, decode, encode

log = logging.getLogger("podium.engine")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ApiServer:
    def __init__(self, socket_path: Path, handlers: dict[str, Handler], bus: EventBus) -> None:
        self.socket_path = socket_path
        self.handlers = handlers
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
                except ValueError as exc:
                    await self._reply(writer, None, error=ApiError("bad_request", str(exc)))
                    continue
                req_id = request.get("id")
                method = request.get("method")
                if method == "events.subscribe":
                    await self._reply(writer, req_id, result={"subscribed": True})
                    await self._stream_events(writer)
                    return
                await self._dispatch(writer, req_id, method, request.get("params") or {})
        except (ConnectionError, BrokenPipeError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _dispatch(
        self, writer: asyncio.StreamWriter, req_id: Any, method: Any, params: Any
    ) -> None:
        handler = self.handlers.get(method) if isinstance(method, str) else None
        if handler is None:
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
            result = await handler(params)
        except ApiError as exc:
            await self._reply(writer, req_id, error=exc)
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
