"""Session state: the states, and the pure rules that move between them.

`starting → busy ⇄ waiting | permission → exited`, plus `idle` (seen, nothing
running), `limited` (hit a usage limit) and `lost` (the pane vanished).
Sources, best first: Claude Code hooks, then screen profiles, then process
activity. The rules here are pure functions so the engine, tests and the
benchmarks share them.

Screens and processes only say what a pane looks like *now*; whether a prompt
means `waiting` (a turn ended and nobody has looked yet) or `idle` (nothing
was ever asked) depends on where the session came from, which is what
`from_screen` and `from_process` add.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    STARTING = "starting"
    BUSY = "busy"
    # Claude Code retries a failed API call (a 429, an overload): no input needed.
    RETRYING = "retrying"
    WAITING = "waiting"
    # A finished turn the person has looked at but not answered yet: still their move.
    SEEN = "seen"
    PERMISSION = "permission"
    IDLE = "idle"
    LIMITED = "limited"
    EXITED = "exited"
    LOST = "lost"


# States that ask for the human: entering one opens an attention item.
ATTENTION_STATES = frozenset({State.WAITING, State.PERMISSION, State.LIMITED})
# Terminal states: nothing but a new launch leaves them.
FINAL_STATES = frozenset({State.EXITED, State.LOST})


class Source(StrEnum):
    HOOK = "hook"
    SCREEN = "screen"
    PROCESS = "process"
    TMUX = "tmux"
    USER = "user"
    ENGINE = "engine"


@dataclass(frozen=True)
class Change:
    """A decided transition: the new state and why."""

    state: State
    source: Source
    detail: str = ""


def from_hook(current: State, event: str, payload: dict) -> Change | None:
    """The state a Claude Code hook event implies, or None when it says nothing new."""
    if current in FINAL_STATES and event != "SessionStart":
        return None
    target: State | None = None
    detail = event
    if event == "SessionStart":
        # At its prompt with nothing asked yet: nobody is waited for.
        target = State.IDLE if current in (State.STARTING, *FINAL_STATES) else None
    elif event in ("UserPromptSubmit", "PreToolUse", "PostToolUse", "PreCompact"):
        target = State.BUSY
    elif event == "PermissionRequest":
        target = State.PERMISSION
        tool = payload.get("tool_name")
        detail = f"{event} {tool}" if isinstance(tool, str) else event
    elif event == "Notification":
        kind = payload.get("notification_type")
        detail = f"{event} {kind}"
        if kind == "permission_prompt":
            target = State.PERMISSION
        elif kind in ("elicitation_dialog", "agent_needs_input") and current is State.BUSY:
            target = State.WAITING
        elif kind == "idle_prompt" and current in (State.BUSY, State.STARTING):
            # A turn ended a minute ago and its Stop was missed: it waits for
            # the human. A seen (idle) session stays idle.
            target = State.WAITING
    elif event == "Stop":
        target = State.WAITING
    elif event == "StopFailure":
        error = payload.get("error")
        detail = f"{event} {error}"
        target = State.LIMITED if error == "rate_limit" else State.WAITING
    elif event == "SessionEnd":
        target = State.EXITED
        reason = payload.get("reason")
        detail = f"{event} {reason}" if isinstance(reason, str) else event
    if target is None or target == current:
        return None
    return Change(target, Source.HOOK, detail)


def from_pane(
    current: State, *, present: bool, dead: bool, dead_status: int | None
) -> Change | None:
    """What tmux's view of the pane implies: gone → lost (from any state), ended → exited."""
    if not present:
        if current is State.LOST:
            return None
        return Change(State.LOST, Source.TMUX, "pane vanished")
    if dead and current is not State.EXITED:
        return Change(State.EXITED, Source.TMUX, f"exit status {dead_status}")
    return None


# What a screen profile rule may report: the states a pane can show.
SCREEN_STATES = frozenset({State.BUSY, State.WAITING, State.PERMISSION, State.LIMITED, State.IDLE})


def _settle(current: State, observed: State) -> State:
    """The time dimension of an observed `waiting` (an agent at its input prompt).

    A prompt after work (busy, a dialog, a limit) is a finished turn nobody has
    seen: `waiting`. A prompt that was never left, or only typed into, is
    `idle`, and a session that already waits keeps waiting.
    """
    if observed is not State.WAITING:
        return observed
    if current in (State.BUSY, State.PERMISSION, State.LIMITED):
        return State.WAITING
    if current is State.STARTING:
        return State.IDLE
    return current


def from_screen(current: State, observed: State, detail: str = "") -> Change | None:
    """What a screen profile's verdict implies (`observed` is one of SCREEN_STATES)."""
    if current in FINAL_STATES or observed not in SCREEN_STATES:
        return None
    target = _settle(current, observed)
    if target is current:
        return None
    return Change(target, Source.SCREEN, detail or f"screen: {observed}")


def from_process(
    current: State, *, busy: bool, quiet: State = State.WAITING, detail: str = ""
) -> Change | None:
    """What process activity implies, for agents whose screen says nothing.

    `quiet` is what a quiet process tree means for this agent: `waiting` for an
    agent (settled like a prompt on screen), `idle` for a shell. A busy tree
    does not move a session out of `starting`: loading is not a turn.
    """
    if current in FINAL_STATES:
        return None
    if busy:
        target = current if current is State.STARTING else State.BUSY
    else:
        target = _settle(current, quiet)
    if target is current:
        return None
    return Change(target, Source.PROCESS, detail or ("busy" if busy else "quiet"))
