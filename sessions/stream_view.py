"""A readable view of a headless run's stream-json, for the person watching its pane.

A background run's stdout goes to a file the engine tails (`sessions.launch`'s
`stdout`); the pane would show nothing. `follow` runs in a small child of the
launcher, prints one short line per event to the pane, and ends once the agent
(its parent, after exec) has ended and the file is read to the end.
Stdlib only: it runs in the launcher's fork.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from collectors import safe_json

WIDTH = 160
# Bytes read per poll, and the longest line shown (a longer one is dropped, not held).
READ_BYTES = 1 << 20
MAX_LINE = 16 << 20


def describe(obj: dict[str, Any]) -> str | None:
    """One line for a stream-json event, or None for events not worth a line."""
    kind = obj.get("type")
    if kind == "system" and obj.get("subtype") == "init":
        return f"· session {obj.get('session_id') or '?'} · model {obj.get('model') or '?'}"
    if kind == "assistant":
        out = []
        for block in (obj.get("message") or {}).get("content") or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                out.append(str(block.get("text", "")))
            elif block.get("type") == "tool_use":
                out.append(f"→ {block.get('name')} {json.dumps(block.get('input'))}")
        return " ".join(out) or None
    if kind == "rate_limit_event":
        info = obj.get("rate_limit_info") or {}
        return f"· limit {info.get('rateLimitType') or ''} {info.get('status')}"
    if kind == "result":
        head = "✗" if obj.get("is_error") else "✓"
        # What the result leaves out is left out here too: never "None turn(s)" or "$None".
        parts = [f"{head} {obj.get('subtype') or 'result'}"]
        turns = obj.get("num_turns")
        if isinstance(turns, int) and not isinstance(turns, bool):
            parts.append(f"{turns} turn(s)")
        cost = obj.get("total_cost_usd")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            parts.append(f"${cost:.4f}")
        reason = obj.get("terminal_reason")
        text = obj.get("result") or ""
        return " · ".join(parts) + (f" · {reason}" if reason else "") + f": {text!s}"
    return None


def _show(fd: int, line: bytes) -> None:
    obj, _why = safe_json.loads(line)  # the agent's output: anything, nested any deep
    text = describe(obj) if isinstance(obj, dict) else None
    if text:
        text = " ".join(text.split())
        text = text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"
        os.write(fd, (text + "\r\n").encode("utf-8", "replace"))


def follow(path: str, fd: int, agent_pid: int, poll: float = 0.2) -> None:
    """Print the events appended to `path` to `fd` until `agent_pid` has gone."""
    offset, pending = 0, b""
    while True:
        gone = os.getppid() != agent_pid  # reparented: the agent ended
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                chunk = fh.read(READ_BYTES)
        except OSError:
            chunk = b""
        offset += len(chunk)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if len(pending) > MAX_LINE:
            pending = b""  # never held: the rest of that line shows nothing either
        for line in lines:
            _show(fd, line)
        if len(chunk) == READ_BYTES:
            continue  # more to read at once
        if gone:
            return
        time.sleep(poll)
