"""The engine's wire format: JSON lines over a Unix socket. Runs in the engine
and in every client.

Request  `{"id": 1, "method": "sessions.list", "params": {...}}`
Reply    `{"id": 1, "ok": true, "result": ...}` or
         `{"id": 1, "ok": false, "error": {"code": "not_found", "message": "..."}}`
Event    `{"event": "session", "data": {...}}` (only after `events.subscribe`)
"""

from __future__ import annotations

import functools
import json
import socket
import struct
from typing import Any

# Large enough for a long prompt or a screen capture in one line.
MAX_LINE = 16 * 1024 * 1024


class ApiError(Exception):
    """An error the engine reports to a client; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@functools.cache
def _encoder() -> Any:
    # msgspec costs a command ~18 ms to import: only the engine, whose replies and
    # events carry `sessions.wire` Structs, loads it; requests go as plain JSON
    # (`encode_request`). Anything else a result may hold (a Path, say) goes as its
    # text, as json.dumps's default=str did.
    import msgspec

    return msgspec.json.Encoder(enc_hook=str)


def encode(message: Any) -> bytes:
    """One line: a message (replies and events carry `sessions.wire` Structs)."""
    return _encoder().encode(message) + b"\n"


def encode_request(message: dict[str, Any]) -> bytes:
    """One line: a client's request, whose params are plain JSON values (a typed
    caller turns its Struct into them first), so no msgspec is needed to send it."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """One message, or `ValueError` for anything else a line can hold: bytes that are
    not UTF-8, not JSON, JSON too deeply nested for the parser (`[[[[…]]]]` raises
    RecursionError) or too big for memory. Nothing else leaves the parser."""
    try:
        value = json.loads(line)
    except RecursionError:
        raise ValueError("message is nested too deeply") from None
    except MemoryError:
        raise ValueError("message is too big") from None
    if not isinstance(value, dict):
        raise ValueError("message is not a JSON object")
    return value


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (`SO_PEERCRED`), or None
    where the platform does not tell."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # pragma: no cover - not Linux
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid
