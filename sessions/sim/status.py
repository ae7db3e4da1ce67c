"""The statusline payload of a session (reference §4)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

from . import account
from .script import CONTEXT_WINDOW, display_name
from .transcript import VERSION

USAGE_KEYS = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
)


class _Transcript(Protocol):
    path: Path


class Session(Protocol):
    """What the statusline reads of a session (`sessions.sim.turn.Session`)."""

    session_id: str
    cwd: str
    model: str
    transcript: _Transcript
    started: float
    total_cost: float
    api_ms: int
    lines_added: int
    lines_removed: int
    total_in: int
    total_out: int
    last_usage: dict[str, int] | None
    snapshot: dict[str, Any] | None


def statusline_payload(session: Session) -> dict[str, Any]:
    """The JSON Claude Code pipes to the statusline command (reference §4)."""
    last = session.last_usage or {}
    context = sum(last.get(k, 0) for k in USAGE_KEYS[:3])
    used = round(context / CONTEXT_WINDOW * 100, 1)
    payload: dict[str, Any] = {
        "hook_event_name": "Status",
        "session_id": session.session_id,
        "transcript_path": str(session.transcript.path),
        "cwd": session.cwd,
        "model": {"id": session.model, "display_name": display_name(session.model)},
        "workspace": {"current_dir": session.cwd, "project_dir": session.cwd},
        "version": VERSION,
        "output_style": {"name": "default"},
        "cost": {
            "total_cost_usd": round(session.total_cost, 6),
            "total_duration_ms": int((time.monotonic() - session.started) * 1000),
            "total_api_duration_ms": session.api_ms,
            "total_lines_added": session.lines_added,
            "total_lines_removed": session.lines_removed,
        },
        "context_window": {
            "total_input_tokens": session.total_in,
            "total_output_tokens": session.total_out,
            "context_window_size": CONTEXT_WINDOW,
            "used_percentage": used,
            "remaining_percentage": round(100 - used, 1),
            "current_usage": {k: last.get(k, 0) for k in USAGE_KEYS} if last else None,
        },
        "exceeds_200k_tokens": context > 200_000,
    }
    if session.snapshot:  # only after the first response, as for real subscribers
        payload["rate_limits"] = {
            kind: {
                "used_percentage": session.snapshot[kind]["used_percentage"],
                "resets_at": session.snapshot[kind]["resets_at"],
            }
            for kind in (account.FIVE_HOUR, account.SEVEN_DAY)
        }
    return payload
