"""What each session is doing, from its hooks: the tool that runs, else the last
line the agent said (early in a turn, before any tool: what it was asked).

Event by event (Claude Code's, and the sim's):

- `PreToolUse`: the tool and its subject (`Bash: npm test`, `Edit: src/app.py`),
  kept by `tool_use_id` until its `PostToolUse` or `PostToolUseFailure` (a tool
  that fails fires only the latter); of tools running together, the latest.
- `UserPromptSubmit`: the first line of the prompt, what the turn is about.
- `Stop`, `StopFailure`: the last line of `last_assistant_message`, or of the last
  assistant record of the transcript when the payload has no such field.
- `SessionStart` of a new or cleared conversation forgets everything, any other
  `SessionStart` and `SessionEnd` the tools.

A tool is shown only while the session is busy or asks permission for it: an
interrupt (Esc) or a refused dialog fires no `PostToolUse`, and a session the
screen watchdog found back at its prompt is running nothing.

**Untrusted text.** Whatever runs in a pane can write spool lines, and the text
comes from a model that may have read someone else's repository. Every string
shown goes through `one_line`: escape sequences and control, format (a bidi
override reorders the row), separator, surrogate and unassigned characters go,
whitespace becomes single spaces, stacked combining marks are cut to two, and
the result is at most `wire.DOING_MAX` characters. Only a bounded window of any
value is looked at, so a huge payload costs no more than a small one.

**Memory, not a table.** The engine keeps this per session in memory; at start
`DoingBook.load` replays each session's hook events since its last turn began
or ended from `hook_events`, where the engine stores every payload anyway. So a
restarted engine still shows what each waiting session said last, which is the
line a person reads to decide whom to answer, without a table of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from collectors import safe_json
from collectors.tail import open_regular
from sessions import wire
from sessions.engine.parts import Blocking, Spawn
from sessions.registry import SessionRecord
from sessions.state import State

log = logging.getLogger("podium.doing")

# Characters of one value looked at: an untrusted string may be megabytes long.
WINDOW = wire.DOING_MAX * 16
# Lines of a message looked at, from its end, for one with words in it.
MAX_LINES = 50
# Tools remembered as running per session: PreToolUse lines without their end
# (a hostile spool) must not grow memory.
MAX_TOOLS = 16
# What is read of a transcript's end to find its last assistant message.
TRANSCRIPT_TAIL = 256 * 1024
# The longest tool name kept: MCP tools have long ones.
TOOL_NAME_MAX = 40
# States in which a tool that started may still run.
TOOL_STATES = frozenset({State.BUSY, State.PERMISSION})
# Where each of Claude Code's tools has its subject, best first; a tool not listed
# (an MCP server's) shows its first string.
SUBJECT_KEYS = (
    "command",
    "file_path",
    "notebook_path",
    "pattern",
    "url",
    "query",
    "description",
    "skill",
    "path",
    "prompt",
    "plan",
)
PATH_KEYS = frozenset({"file_path", "notebook_path", "path"})
# Events that begin or end a turn: what came before one is shown no more.
TURN_EVENTS = ("UserPromptSubmit", "Stop", "StopFailure")
TOOL_ENDS = ("PostToolUse", "PostToolUseFailure")
# The events that change what a session is doing.
EVENTS = (*TURN_EVENTS, "SessionStart", "SessionEnd", "PreToolUse", *TOOL_ENDS)

# Terminal escape sequences, 7- and 8-bit, also when cut short: CSI (colours,
# cursor moves), OSC (titles, hyperlinks, the clipboard), DCS/SOS/PM/APC strings,
# and any other ESC sequence.
_ESCAPES = re.compile(
    r"""
      \x1b\[ [0-?]* [\x20-/]* [@-~]?
    | \x1b\] [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?
    | \x1b[PX^_] [^\x1b\x9c]* (?:\x1b\\|\x9c)?
    | \x1b [\x20-/]* [0-~]?
    | \x9b [0-?]* [\x20-/]* [@-~]?
    | [\x90\x98\x9d\x9e\x9f] [^\x07\x1b\x9c]* (?:\x07|\x9c)?
    """,
    re.VERBOSE,
)
# Unicode categories dropped: controls, format (bidi overrides, zero-width),
# surrogates, private use (no width a terminal agrees on), unassigned, and the
# line and paragraph separators (whitespace is turned into spaces first).
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MARKS = frozenset({"Mn", "Me"})
# A line without words: a code fence, a rule, a table border.
_NO_WORDS = re.compile(r"[\s`~\-=*_#>|+:.]*")


def one_line(value: object, limit: int = wire.DOING_MAX) -> str:
    """`value` as one line of printable text of at most `limit` characters ("" for
    anything that is not a string, or has nothing printable)."""
    if not isinstance(value, str):
        return ""
    text = _ESCAPES.sub("", value[:WINDOW])
    out: list[str] = []
    marks = 0
    for ch in text:
        if ch.isspace():
            out.append(" ")
            marks = 0
            continue
        category = unicodedata.category(ch)
        if category in _DROPPED:
            continue
        if category in _MARKS:
            # Combining marks stack on their letter, upwards and downwards, over
            # the rows around it: two are enough for any language.
            marks += 1
            if marks > 2 or not out:
                continue
        else:
            marks = 0
        out.append(ch)
    line = " ".join("".join(out).split())
    if len(line) > limit:
        line = line[: max(0, limit - 1)].rstrip() + "…"
    return line


def last_line(message: object) -> str:
    """The last line of `message` with words in it, cleaned (`one_line`)."""
    if not isinstance(message, str):
        return ""
    end = len(message)
    for _ in range(MAX_LINES):
        if end <= 0:
            break
        start = message.rfind("\n", 0, end) + 1
        line = one_line(message[start : min(end, start + WINDOW)])
        if line and not _NO_WORDS.fullmatch(line):
            return line
        end = start - 1
    return ""


def first_line(text: object) -> str:
    """The first non-blank line of `text`, cleaned (`one_line`)."""
    if not isinstance(text, str):
        return ""
    start = 0
    for _ in range(MAX_LINES):
        if start >= len(text):
            break
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = one_line(text[start : min(end, start + WINDOW)])
        if line:
            return line
        start = end + 1
    return ""


def tool_summary(name: object, tool_input: object, cwd: object = None) -> str:
    """`Bash: npm test`, `Edit: src/app.py` (a path relative to `cwd` when inside
    it), `github.create_issue: …` for an MCP tool, the bare name when the input
    has nothing to show; one cleaned line."""
    tool = one_line(name, TOOL_NAME_MAX)
    if tool.startswith("mcp__"):  # how Claude Code names MCP tools: mcp__server__tool
        tool = tool.removeprefix("mcp__").replace("__", ".")
    tool = tool or "tool"
    subject = _subject(tool_input, cwd) if isinstance(tool_input, dict) else ""
    return one_line(f"{tool}: {subject}" if subject else tool)


def _subject(tool_input: dict[Any, Any], cwd: object) -> str:
    for key in SUBJECT_KEYS:
        text = one_line(tool_input.get(key))
        if text:
            return _relative(text, cwd) if key in PATH_KEYS else text
    for value in itertools.islice(tool_input.values(), 20):
        text = one_line(value)
        if text:
            return text
    return ""


def _relative(path: str, cwd: object) -> str:
    if isinstance(cwd, str) and cwd.startswith("/"):
        base = cwd.rstrip("/") + "/"
        if path.startswith(base) and len(path) > len(base):
            return path[len(base) :]
    return path


def last_assistant_text(path: str) -> str | None:
    """The text of the last main-chain assistant record with text in the end of a
    transcript (`TRANSCRIPT_TAIL` bytes); None when there is none or the file
    cannot be read. Blocking. The path came from a hook payload: only a regular
    file is opened, never anything that could block."""
    try:
        with open_regular(path) as fh:
            start = max(0, os.fstat(fh.fileno()).st_size - TRANSCRIPT_TAIL)
            fh.seek(start)
            data = fh.read(TRANSCRIPT_TAIL)
    except (OSError, ValueError):  # ValueError: a path with a NUL in it
        return None
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # cut by the seek
    for raw in reversed(lines):
        if b'"assistant"' not in raw:
            continue
        record, _why = safe_json.loads(raw)
        if not isinstance(record, dict) or record.get("type") != "assistant":
            continue
        if record.get("isSidechain") is True:
            continue  # a subagent's
        message = record.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            text = content
        elif isinstance(content, list):
            text = "\n".join(
                b["text"]
                for b in content
                if isinstance(b, dict)
                and b.get("type") == "text"
                and isinstance(b.get("text"), str)
            )
        else:
            continue
        if text.strip():
            return text
    return None


@dataclass
class _Seen:
    """One session's running tools (by `tool_use_id`, oldest first) and the line
    shown when none runs."""

    tools: dict[str, str] = field(default_factory=dict)
    line: wire.Doing | None = None
    # Bumped by every event: a transcript read that comes back after a newer event
    # is dropped.
    version: int = 0


# Per session, its hook events since its last turn began or ended (`TURN_EVENTS`,
# a new or cleared conversation), in the order they came. The ends of tools are
# given without their `tool_response`, which can be large. (Only this module's
# constants are formatted into it.)
_REPLAY = f"""
WITH ev AS (
    SELECT session_id, event, payload,
           row_number() OVER (PARTITION BY session_id ORDER BY ts, rowid) AS n
    FROM hook_events
    WHERE list_contains($ids, session_id)
      AND event IN ({", ".join(f"'{e}'" for e in EVENTS)})
),
turn AS (
    SELECT session_id, max(n) AS n FROM ev
    WHERE event IN ({", ".join(f"'{e}'" for e in TURN_EVENTS)})
       OR (event = 'SessionStart'
           AND json_extract_string(payload, '$.source') IN ('startup', 'clear'))
    GROUP BY session_id
)
SELECT ev.session_id, ev.event,
       CASE WHEN ev.event IN ({", ".join(f"'{e}'" for e in TOOL_ENDS)})
            THEN json_object('tool_use_id', json_extract_string(ev.payload, '$.tool_use_id'))
            ELSE ev.payload END
FROM ev LEFT JOIN turn USING (session_id)
WHERE ev.n >= coalesce(turn.n, 0)
ORDER BY ev.session_id, ev.n
"""


class DoingBook:
    """What each session is doing (`doing`), kept from its hook events (`on_hook`).

    A change publishes the session's row, once per batch of spool lines: the
    publish waits for the loop's next turn, and is skipped when the engine
    published the session meanwhile anyway (`published`, a state change)."""

    def __init__(
        self,
        *,
        listed: Callable[[], list[SessionRecord]],
        publish_session: Callable[[SessionRecord], None],
        blocking: Blocking,
        spawn: Spawn,
    ) -> None:
        self.listed = listed  # the registry's listed sessions
        self.publish_session = publish_session
        self.blocking = blocking
        self.spawn = spawn
        self._seen: dict[str, _Seen] = {}
        self._pending: set[str] = set()
        self._flush_at: asyncio.Handle | None = None

    def doing(self, rec: SessionRecord) -> wire.Doing | None:
        """What `rec`'s row shows: the latest tool that runs, else the last line."""
        seen = self._seen.get(rec.id)
        if seen is None:
            return None
        if seen.tools and rec.state in TOOL_STATES:
            return wire.Doing(kind="tool", text=next(reversed(seen.tools.values())))
        return seen.line

    def on_hook(self, rec: SessionRecord, event: str, payload: dict[str, Any]) -> None:
        """A hook event of `rec`; its row is published again when what it shows changed."""
        before = self.doing(rec)
        self._apply(rec, event, payload, read_transcript=True)
        if self.doing(rec) != before:
            self._changed(rec.id)

    def published(self, session_id: str) -> None:
        """The engine just published the session (with what it is doing)."""
        self._pending.discard(session_id)

    def load(self, conn: duckdb.DuckDBPyConnection) -> None:
        """What each listed session was doing when the engine stopped, from the hook
        events it stored (see the module's docstring)."""
        listed = {rec.id: rec for rec in self.listed()}
        self._seen = {sid: seen for sid, seen in self._seen.items() if sid in listed}
        if not listed:
            return
        try:
            rows = conn.execute(_REPLAY, {"ids": list(listed)}).fetchall()
        except duckdb.Error as exc:  # a nicety: the engine starts without it
            log.warning("cannot read what sessions were doing: %s", " ".join(str(exc).split()))
            return
        for sid, event, text in rows:
            payload, _why = safe_json.loads(text) if isinstance(text, str) else (None, None)
            if isinstance(payload, dict):
                # No transcript read: a Stop without a message is an older CLI's,
                # whose transcript may be long gone.
                self._apply(listed[sid], event, payload, read_transcript=False)

    # -- events -----------------------------------------------------------------------
    def _apply(
        self, rec: SessionRecord, event: str, payload: dict[str, Any], *, read_transcript: bool
    ) -> None:
        seen = self._seen.setdefault(rec.id, _Seen())
        seen.version += 1
        tool_id = payload.get("tool_use_id")
        tool_id = tool_id if isinstance(tool_id, str) and tool_id else None
        if event == "PreToolUse":
            key = tool_id or f"#{seen.version}"
            seen.tools.pop(key, None)  # sent again: now the latest
            cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else rec.cwd
            seen.tools[key] = tool_summary(payload.get("tool_name"), payload.get("tool_input"), cwd)
            while len(seen.tools) > MAX_TOOLS:
                del seen.tools[next(iter(seen.tools))]
        elif event in TOOL_ENDS:
            if tool_id is not None:
                seen.tools.pop(tool_id, None)
            elif seen.tools:  # an end without an id: the oldest tool's
                del seen.tools[next(iter(seen.tools))]
        elif event == "UserPromptSubmit":
            seen.tools.clear()
            seen.line = _doing("prompt", first_line(payload.get("prompt")))
        elif event in ("Stop", "StopFailure"):
            seen.tools.clear()
            message = payload.get("last_assistant_message")
            seen.line = _doing("said", last_line(message))
            if not isinstance(message, str) and read_transcript:
                self._read_transcript(rec, payload, seen.version)
        elif event == "SessionStart":
            seen.tools.clear()
            if payload.get("source") in ("startup", "clear"):
                seen.line = None
        elif event == "SessionEnd":
            seen.tools.clear()

    def _read_transcript(self, rec: SessionRecord, payload: dict[str, Any], version: int) -> None:
        path = payload.get("transcript_path")
        path = path if isinstance(path, str) and path else rec.transcript_path
        if not path:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # an engine driven without its loop (unit tests)
        self.spawn(self._said_from_transcript(rec.id, path, version), "doing-transcript")

    async def _said_from_transcript(self, session_id: str, path: str, version: int) -> None:
        text = await self.blocking(last_assistant_text, path)
        seen = self._seen.get(session_id)
        if seen is None or seen.version != version:
            return  # a newer event says more
        line = _doing("said", last_line(text))
        if line is not None:
            seen.line = line
            self._changed(session_id)

    # -- publishing ---------------------------------------------------------------------
    def _changed(self, session_id: str) -> None:
        self._pending.add(session_id)
        if self._flush_at is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._flush()  # driven without a loop (unit tests): at once
            return
        self._flush_at = loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_at = None
        pending, self._pending = self._pending, set()
        listed = {rec.id: rec for rec in self.listed()}
        for session_id in pending:
            rec = listed.get(session_id)
            if rec is None:
                self._seen.pop(session_id, None)  # killed: nothing to show any more
            else:
                self.publish_session(rec)


def _doing(kind: Literal["said", "prompt"], text: str) -> wire.Doing | None:
    return wire.Doing(kind=kind, text=text) if text else None
