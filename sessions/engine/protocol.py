"""The engine's wire format: JSON lines over a Unix socket.

Request  `{"id": 1, "method": "sessions.list", "params": {...}}`
Reply    `{"id": 1, "ok": true, "result": ...}` or
         `{"id": 1, "ok": false, "error": {"code": "not_found", "message": "..."}}`
Event    `{"event": "session", "data": {...}}` (only after `events.subscribe`)
"""

from __future__ import annotations

import json
from typing import Any

# Large enough for a long prompt or a screen capture in one line.
MAX_LINE = 16 * 1024 * 1024


class ApiError(Exception):
    """An error the engine reports to a client; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    if not isinstance(value, dict):
        raise ValueError("message is not a JSON object")
    return value
