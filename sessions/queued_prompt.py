"""Prompts sent while a turn runs, and the Stop that is not the end of the work.

Claude Code (2.1.328, seen against the loopback API) fires UserPromptSubmit when a
prompt is submitted, also while a turn runs. Such a prompt goes to the model with
the result of the tool that is running (the same turn: one Stop). One submitted
after the turn's last tool call waits instead: the turn's Stop comes, then the
prompt runs as a turn of its own that no UserPromptSubmit announces, and a second
Stop ends that. Taking the first Stop as the end made the session `waiting` (and
cued the person) while it worked on what they had just asked.

So a Stop with such a prompt behind it is held: the session stays busy. If the
watchdog then finds the prompt bare (the turn had ended after all), the held Stop
applies (`waiting`, as any finished turn), not the watchdog's `idle`. Used on the
engine's loop thread only.
"""

from __future__ import annotations

from sessions.state import Change, State

# A prompt submitted in these states runs after the turn, unless a tool result
# takes it first.
_RUNNING = frozenset({State.BUSY, State.RETRYING})
# Hooks after which no submitted prompt waits: a tool result took it, or the
# conversation ended or failed.
_TAKEN = frozenset({"PostToolUse", "PostToolUseFailure"})
_RESET = frozenset({"SessionStart", "SessionEnd", "StopFailure"})


class QueuedPrompts:
    """Per session: whether a prompt waits behind the running turn, and a held Stop."""

    def __init__(self) -> None:
        self._waiting: set[str] = set()
        self._held: dict[str, Change] = {}

    def holds(self, session_id: str, event: str, state: State) -> bool:
        """Whether this hook's change is held back: a Stop with a prompt behind it.
        Any hook of the session ends an earlier hold (the next turn speaks)."""
        self._held.pop(session_id, None)
        if event == "UserPromptSubmit":
            if state in _RUNNING:
                self._waiting.add(session_id)
            return False
        if event in _TAKEN or event in _RESET:
            self._waiting.discard(session_id)
            return False
        if event == "Stop" and session_id in self._waiting:
            self._waiting.discard(session_id)
            return True
        return False

    def hold(self, session_id: str, change: Change) -> None:
        """Keep the Stop's change: it applies if the screen shows the turn ended."""
        self._held[session_id] = change

    def settle(self, session_id: str, bare_prompt: bool) -> Change | None:
        """The held Stop when the watchdog finds the prompt bare, else None."""
        if not bare_prompt:
            return None
        return self._held.pop(session_id, None)
