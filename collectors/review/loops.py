"""Loops: a session that hits the same tool error turn after turn.

The usage log holds tokens, not tool results, so the transcripts of the period's
sessions are read again, looking only at lines that carry a failed tool result
(a byte search first; only those lines are parsed) and at tool calls' names (a
regular expression on the raw line, no parse). Errors are compared after their
numbers, hex ids and paths are masked, so "line 41" and "line 42" are the same error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from collectors import safe_json
from collectors.tail import open_regular

_ERROR_MARKS = (b'"is_error":true', b'"is_error": true')
_TOOL_USE = re.compile(
    rb'"type":\s*"tool_use",\s*"id":\s*"([^"]{1,100})",\s*"name":\s*"([^"]{1,100})"'
)
_MASKS = (
    (re.compile(r"(/[\w.@+-]+)+"), "<path>"),
    (re.compile(r"\b[0-9a-f]{7,}\b"), "<hex>"),
    (re.compile(r"\d+"), "#"),
    (re.compile(r"\s+"), " "),
)
ERROR_HEAD = 160
# Lines longer than this are not tool errors worth reading (a huge tool output).
MAX_LINE = 4 << 20


@dataclass
class ErrorRun:
    """Every failed tool result of one session with the same masked text."""

    session: str
    project: str | None
    error: str
    tool: str | None = None
    times: list[datetime] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.times)


def mask(text: str) -> str:
    text = text.strip().lower()
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text[:ERROR_HEAD]


def _lines(path: Path) -> Iterator[bytes]:
    with open_regular(path) as raw:
        pending = b""
        while chunk := raw.read(1 << 20):
            pending += chunk
            *whole, pending = pending.split(b"\n")
            yield from whole
            if len(pending) > MAX_LINE:
                pending = b""
        if pending:
            yield pending


def _result_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def scan(paths: Iterable[Path], since: datetime) -> list[ErrorRun]:
    """Failed tool results since `since`, grouped by session and masked text."""
    runs: dict[tuple[str, str], ErrorRun] = {}
    for path in paths:
        tools: dict[str, str] = {}
        try:
            for line in _lines(path):
                if b'"tool_use"' in line:
                    for match in _TOOL_USE.finditer(line):
                        tool_id = match.group(1).decode(errors="replace")
                        tools[tool_id] = match.group(2).decode(errors="replace")
                if not any(mark in line for mark in _ERROR_MARKS):
                    continue
                _record(line, since, tools, runs)
        except OSError:
            continue  # a transcript deleted or unreadable since it was logged
    return list(runs.values())


def _record(
    line: bytes, since: datetime, tools: dict[str, str], runs: dict[tuple[str, str], ErrorRun]
) -> None:
    value, _ = safe_json.loads(line)
    if not isinstance(value, dict) or value.get("type") != "user":
        return
    try:
        when = datetime.fromisoformat(str(value.get("timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        return
    if when.tzinfo is None or when < since:
        return
    content = (value.get("message") or {}).get("content")
    if not isinstance(content, list):
        return
    session = str(value.get("sessionId") or "?")
    for block in content:
        if not isinstance(block, dict) or block.get("type") != "tool_result":
            continue
        if block.get("is_error") is not True:
            continue
        text = mask(_result_text(block))
        run = runs.setdefault(
            (session, text),
            ErrorRun(session, value.get("cwd"), text, tools.get(str(block.get("tool_use_id")))),
        )
        run.times.append(when)
