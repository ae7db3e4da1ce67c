"""A Stop with a prompt queued behind it holds the session busy (`sessions.queued_prompt`);
the order of hooks is the one Claude Code 2.1.328 fired against the loopback API."""

from __future__ import annotations

from sessions.queued_prompt import QueuedPrompts
from sessions.state import Change, Source, State

STOP = Change(State.WAITING, Source.HOOK, "Stop")


def test_a_prompt_after_the_last_tool_holds_the_first_stop_only() -> None:
    q = QueuedPrompts()
    assert not q.holds("s", "UserPromptSubmit", State.WAITING)  # the turn's own prompt
    assert not q.holds("s", "UserPromptSubmit", State.BUSY)  # sent while it ran
    assert q.holds("s", "Stop", State.BUSY)  # the first turn's end: the prompt runs next
    q.hold("s", STOP)
    assert not q.holds("s", "Stop", State.BUSY)  # the second turn's end is the end
    assert q.settle("s", bare_prompt=True) is None  # and the later hook ended the hold


def test_a_prompt_taken_with_a_tool_result_holds_nothing() -> None:
    q = QueuedPrompts()
    q.holds("s", "UserPromptSubmit", State.WAITING)
    q.holds("s", "PreToolUse", State.BUSY)
    q.holds("s", "UserPromptSubmit", State.BUSY)  # typed while the tool ran
    q.holds("s", "PostToolUse", State.BUSY)  # goes to the model with the result
    assert not q.holds("s", "Stop", State.BUSY)
    for reset in ("SessionStart", "SessionEnd", "StopFailure"):
        q.holds("s", "UserPromptSubmit", State.BUSY)
        q.holds("s", reset, State.BUSY)
        assert not q.holds("s", "Stop", State.BUSY), reset
    # Sessions apart: one's queued prompt is not another's.
    q.holds("a", "UserPromptSubmit", State.RETRYING)
    assert not q.holds("b", "Stop", State.BUSY) and q.holds("a", "Stop", State.BUSY)


def test_a_held_stop_applies_when_the_prompt_is_bare() -> None:
    q = QueuedPrompts()
    q.holds("s", "UserPromptSubmit", State.BUSY)
    assert q.holds("s", "Stop", State.BUSY)
    q.hold("s", STOP)
    assert q.settle("s", bare_prompt=False) is None  # still working: nothing
    assert q.settle("s", bare_prompt=True) is STOP  # it had ended: waiting, not idle
    assert q.settle("s", bare_prompt=True) is None  # once
