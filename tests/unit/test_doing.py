"""What a session is doing: the summary of hook payloads (untrusted), and the book
the engine keeps of it (events, what is shown in which state, the replay at start)."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.store import open_store
from sessions import wire
from sessions.engine.doing import (
    DoingBook,
    first_line,
    last_assistant_text,
    last_line,
    one_line,
    tool_summary,
)
from sessions.registry import Registry, SessionRecord

HOSTILE = [
    "\x1b[2J\x1b[H\x1b[31mred\x1b[0m",  # clear the screen, move home, colour
    "\x1b]0;window title\x07",  # OSC: the terminal's title
    "\x1b]52;c;cGF5bG9hZA==\x1b\\",  # OSC 52: write the clipboard
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",  # a hyperlink
    "\x1bP+q544e\x1b\\",  # DCS: ask the terminal
    "\x9b31mC1 csi\x9b0m",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC
    "cut short \x1b[",  # an escape cut by a length limit
    "bell\x07 backspace\x08 nul\x00 del\x7f",
    "abc\u202edcba\u202c",  # right-to-left override
    "zero\u200bwidth\ufeff",
    "line\u2028sep\u2029para",
    "z\u0301\u0302\u0303\u0304\u0305\u0306a\u0300",  # stacked combining marks
    "\ud800lone surrogate",
    "private \ue000 use",
    "tab\tnew\nline\rcr\x0bvt\x0cff\x85nel",
]


def _printable(text: str) -> bool:
    return all(
        unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in text
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_one_line_keeps_no_escape_or_control(text: str) -> None:
    line = one_line(text)
    assert _printable(line), repr(line)
    assert "\x1b" not in line and "\n" not in line and "  " not in line
    assert line == line.strip()


def test_one_line_keeps_the_words() -> None:
    assert one_line("\x1b[1;31mnpm\x1b[0m  test\n--watch") == "npm test --watch"
    assert one_line("\x1b]0;title\x07ls -la") == "ls -la"
    assert one_line("abc\u202edcba") == "abcdcba"
    assert one_line("z\u0301\u0302\u0303\u0304") == "z\u0301\u0302"  # two marks stay
    assert one_line("日本語 ✓ café") == "日本語 ✓ café"  # letters of any script do


@pytest.mark.parametrize("value", [None, 42, 4.2, True, b"bytes", ["a"], {"a": "b"}, object()])
def test_one_line_of_what_is_not_a_string_is_empty(value: Any) -> None:
    assert one_line(value) == ""
    assert last_line(value) == "" and first_line(value) == ""


def test_huge_strings_are_capped_and_cheap() -> None:
    huge = "x" * 5_000_000
    line = one_line(huge)
    assert len(line) == wire.DOING_MAX and line.endswith("…")
    assert len(one_line(huge, 20)) == 20
    # The end of a huge message, without reading it all.
    assert last_line(huge + "\nthe end\n\n") == "the end"
    assert len(last_line("y" * 10_000_000)) == wire.DOING_MAX
    # Escapes cannot push the words out of what is looked at for nothing.
    assert one_line("\x1b[0m" * 5_000_000) == ""


def test_last_line_skips_blank_and_wordless_lines() -> None:
    assert last_line("Done.\n\nAll 12 tests pass.\n\n  \n") == "All 12 tests pass."
    assert last_line("Here:\n```python\nprint(1)\n```\n") == "print(1)"
    assert last_line("Summary\n---\n") == "Summary"
    assert last_line("ok\n\x1b[2K\x1b[1A\n") == "ok"
    assert last_line("\n" * 5_000_000) == ""  # at most MAX_LINES lines looked at
    assert last_line("") == ""


def test_first_line() -> None:
    assert first_line("\n\n  fix the tests\nthen commit") == "fix the tests"
    assert first_line("\x1b[31m\n\nhi") == "hi"


@pytest.mark.parametrize(
    ("name", "tool_input", "want"),
    [
        ("Bash", {"command": "npm test", "description": "Run the tests"}, "Bash: npm test"),
        ("Bash", {"command": "cd app &&\n  npm test\n"}, "Bash: cd app && npm test"),
        (
            "Edit",
            {"file_path": "/home/me/src/api/src/app.py", "old_string": "a"},
            "Edit: src/app.py",
        ),
        ("Read", {"file_path": "/etc/hosts"}, "Read: /etc/hosts"),
        ("Read", {"file_path": "/home/me/src/api"}, "Read: /home/me/src/api"),
        ("Grep", {"pattern": "TODO", "path": "/home/me/src/api/src"}, "Grep: TODO"),
        ("Glob", {"pattern": "**/*.py"}, "Glob: **/*.py"),
        (
            "WebFetch",
            {"url": "https://example.com/x", "prompt": "sum"},
            "WebFetch: https://example.com/x",
        ),
        ("WebSearch", {"query": "textual snapshot"}, "WebSearch: textual snapshot"),
        ("Task", {"description": "Explore the code", "prompt": "…"}, "Task: Explore the code"),
        ("TodoWrite", {"todos": [{"content": "a"}]}, "TodoWrite"),
        (
            "mcp__github__create_issue",
            {"title": "Crash", "body": "…"},
            "github.create_issue: Crash",
        ),
        ("Bash", {"command": 42}, "Bash"),  # not a string: nothing to show
        ("Bash", {"command": ["rm", "-rf"]}, "Bash"),
        ("Bash", "npm test", "Bash"),  # an input that is not an object
        ("Bash", None, "Bash"),
        (None, {"command": "ls"}, "tool: ls"),
        (7, {}, "tool"),
        ("\x1b[31mBash\x1b[0m", {"command": "\x1b]0;pwned\x07ls\x1b[2J"}, "Bash: ls"),
        ("Bash", {"command": "\n\n\n"}, "Bash"),
    ],
)
def test_tool_summary(name: Any, tool_input: Any, want: str) -> None:
    assert tool_summary(name, tool_input, "/home/me/src/api") == want


def test_tool_summary_is_one_capped_line() -> None:
    summary = tool_summary("A" * 500, {"command": "echo " + "z" * 100_000 + "\nrm -rf /"})
    assert summary.startswith("A" * 39 + "…: echo zzz")
    assert len(summary) == wire.DOING_MAX and "\n" not in summary


# -- the book --------------------------------------------------------------------------
class _Book:
    """A DoingBook on a real store and registry, recording what it publishes."""

    def __init__(self, tmp_path: Path) -> None:
        self.conn = open_store(tmp_path / "p.duckdb")
        self.registry = Registry(self.conn)
        self.published: list[str] = []
        self.book = self.make()
        self.rec = SessionRecord(
            id="s1", name="s1", agent="claude", argv=[], cwd="/work", tmux_socket="x"
        )
        self.registry.insert(self.rec)
        self.at = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)

    def make(self) -> DoingBook:
        async def blocking(fn: Any, *args: Any) -> Any:
            return fn(*args)

        return DoingBook(
            listed=self.registry.listed,
            publish_session=lambda rec: self.published.append(rec.id),
            blocking=blocking,
            spawn=lambda coro, name: coro.close(),
        )

    def hook(self, event: str, state: str = "busy", **payload: Any) -> wire.Doing | None:
        """Store the event as the engine does, give it to the book, return what it shows."""
        self.at += timedelta(seconds=1)
        self.conn.execute(
            "INSERT INTO hook_events (ts, session_id, event, payload) VALUES (?, ?, ?, ?)",
            [self.at, self.rec.id, event, json.dumps(payload)],
        )
        self.rec.state = state
        self.book.on_hook(self.rec, event, payload)
        return self.book.doing(self.rec)


def _tool(text: str) -> wire.Doing:
    return wire.Doing(kind="tool", text=text)


def _said(text: str) -> wire.Doing:
    return wire.Doing(kind="said", text=text)


def test_a_turn_shows_prompt_tools_and_the_last_line(tmp_path: Path) -> None:
    t = _Book(tmp_path)
    assert t.book.doing(t.rec) is None
    assert t.hook("SessionStart", "idle", source="startup") is None
    prompt = wire.Doing(kind="prompt", text="fix the tests")
    assert t.hook("UserPromptSubmit", prompt="fix the tests\nplease") == prompt
    bash = {"tool_name": "Bash", "tool_input": {"command": "npm test"}}
    assert t.hook("PreToolUse", tool_use_id="t1", **bash) == _tool("Bash: npm test")
    edit = {"tool_name": "Edit", "tool_input": {"file_path": "/work/src/app.py"}}
    # Two tools at once: the latest shows; when it ends, the other again.
    assert t.hook("PreToolUse", tool_use_id="t2", cwd="/work", **edit) == _tool("Edit: src/app.py")
    assert t.hook("PostToolUse", tool_use_id="t2", tool_response="x" * 1000) == _tool(
        "Bash: npm test"
    )
    # A failed tool fires PostToolUseFailure, not PostToolUse.
    assert t.hook("PostToolUseFailure", tool_use_id="t1", error="Exit code 1") == prompt
    done = t.hook("Stop", "waiting", last_assistant_message="Fixed.\n\nAll 12 tests pass.\n")
    assert done == _said("All 12 tests pass.")
    # /clear: a new conversation, nothing said in it yet.
    assert t.hook("SessionStart", "idle", source="clear") is None


def test_a_tool_shows_only_while_it_can_run(tmp_path: Path) -> None:
    t = _Book(tmp_path)
    t.hook("Stop", "waiting", last_assistant_message="Shall I?")
    rm = {"tool_name": "Bash", "tool_input": {"command": "rm -r build"}, "tool_use_id": "t1"}
    assert t.hook("PreToolUse", **rm) == _tool("Bash: rm -r build")
    assert t.hook("PermissionRequest", "permission") == _tool("Bash: rm -r build")
    # The person pressed Esc at the dialog: no hook, the screen says it waits.
    t.rec.state = "waiting"
    assert t.book.doing(t.rec) == _said("Shall I?")
    # The next prompt forgets the tool that never ended.
    t.hook("UserPromptSubmit", prompt="no, keep it")
    assert t.book.doing(t.rec) == wire.Doing(kind="prompt", text="no, keep it")


def test_changes_are_published_once_and_not_after_the_engine_did(tmp_path: Path) -> None:
    t = _Book(tmp_path)  # no running loop: published at once
    t.hook("PreToolUse", tool_name="Read", tool_input={"file_path": "/a"}, tool_use_id="r")
    assert t.published == ["s1"]
    t.hook("PermissionRequest", "busy")  # shows the same: nothing to publish
    assert t.published == ["s1"]

    async def batch() -> None:
        t.hook("PostToolUse", tool_use_id="r")
        t.hook("PreToolUse", tool_name="Bash", tool_input={"command": "ls"}, tool_use_id="b")
        t.hook("PostToolUse", tool_use_id="b")
        await asyncio.sleep(0)  # the loop's next turn: one publish for the batch
        assert t.published == ["s1", "s1"]
        t.hook("Stop", "waiting", last_assistant_message="ok")
        t.book.published("s1")  # the state changed: the engine published it with this
        await asyncio.sleep(0)
        assert t.published == ["s1", "s1"]

    asyncio.run(batch())


def test_hostile_payloads_never_raise_and_stay_bounded(tmp_path: Path) -> None:
    t = _Book(tmp_path)
    for n in range(100):  # tools that never end
        t.hook("PreToolUse", tool_name="Bash", tool_input={"command": f"c{n}"}, tool_use_id=f"t{n}")
    assert len(t.book._seen["s1"].tools) <= 16
    assert t.book.doing(t.rec) == _tool("Bash: c99")
    odd: list[dict[str, Any]] = [
        {"tool_use_id": 5, "tool_name": {"a": 1}, "tool_input": [1, 2]},
        {"tool_use_id": None},
        {"prompt": {"x": "y"}, "last_assistant_message": 12, "source": ["clear"]},
        {"cwd": 3, "tool_input": {"file_path": "/x/y"}},
    ]
    for payload in odd:
        for event in ("PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SessionStart"):
            t.hook(event, **payload)
    shown = t.book.doing(t.rec)
    assert shown is None or _printable(shown.text)


def test_a_restarted_engine_shows_what_sessions_were_doing(tmp_path: Path) -> None:
    t = _Book(tmp_path)
    t.hook("UserPromptSubmit", prompt="old turn")
    t.hook("Stop", "waiting", last_assistant_message="Old answer.")
    t.hook("UserPromptSubmit", prompt="new turn")
    t.hook("PreToolUse", tool_name="Bash", tool_input={"command": "make"}, tool_use_id="m")
    t.hook("PostToolUse", tool_use_id="m", tool_response={"stdout": "y" * 100_000})
    t.hook("PreToolUse", tool_name="Bash", tool_input={"command": "pytest"}, tool_use_id="p")
    before = t.book.doing(t.rec)
    again = t.make()
    again.load(t.conn)
    assert again.doing(t.rec) == before == _tool("Bash: pytest")
    t.hook("Stop", "waiting", last_assistant_message="New answer.\n")
    again = t.make()
    replayed: list[str] = []
    apply = again._apply

    def counted(rec: SessionRecord, event: str, payload: dict[str, Any], **kw: Any) -> None:
        replayed.append(event)
        apply(rec, event, payload, **kw)

    again._apply = counted  # type: ignore[method-assign]
    again.load(t.conn)
    assert again.doing(t.rec) == _said("New answer.")
    assert replayed == ["Stop"]  # what came before the turn ended is not read again
    assert t.published  # the live book published; a loaded one publishes nothing
    assert again._pending == set()


def test_last_assistant_text_of_a_transcript(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"

    def record(kind: str, text: str, **extra: Any) -> str:
        content = [{"type": "text", "text": text}, {"type": "tool_use", "name": "Bash"}]
        return json.dumps({"type": kind, "message": {"content": content}, **extra})

    path.write_text(
        "\n".join(
            [
                record("assistant", "first answer"),
                record("user", "a question"),
                record("assistant", "the answer\nlast line"),
                record("assistant", "a subagent's", isSidechain=True),
                '{"type": "assistant", "message": {"content": [{"type": "tool_use"}]}}',
                '{"type": "assistant", torn',
            ]
        )
    )
    assert last_assistant_text(str(path)) == "the answer\nlast line"
    # Only the end is read: a long file costs no more.
    path.write_text("x" * 1_000_000 + "\n" + record("assistant", "at the end") + "\n")
    assert last_assistant_text(str(path)) == "at the end"
    assert last_assistant_text(str(tmp_path / "missing.jsonl")) is None
    assert last_assistant_text(str(tmp_path)) is None  # a directory
    assert last_assistant_text("bad\x00path") is None


def test_a_stop_without_a_message_reads_the_transcript(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(
        json.dumps({"type": "assistant", "message": {"content": "From the file.\n"}}) + "\n"
    )
    t = _Book(tmp_path)
    spawned: list[Any] = []
    t.book.spawn = lambda coro, name: spawned.append(coro)

    async def turn() -> None:
        t.hook("Stop", "waiting", transcript_path=str(transcript))
        assert t.book.doing(t.rec) is None and len(spawned) == 1
        await spawned.pop()
        assert t.book.doing(t.rec) == _said("From the file.")
        # A read that comes back after a newer event is dropped.
        t.hook("Stop", "waiting", transcript_path=str(transcript))
        t.hook("UserPromptSubmit", prompt="next")
        await spawned.pop()
        assert t.book.doing(t.rec) == wire.Doing(kind="prompt", text="next")

    asyncio.run(turn())
