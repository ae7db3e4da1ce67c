"""Session state: the states, the events that move them, and one table of the rules.

`starting → busy ⇄ waiting | permission → exited`, plus `retrying` (Claude Code
retries a failed API call), `seen` (a finished turn the person looked at),
`idle` (nothing asked of it), `limited` (hit a usage limit) and `lost` (the
pane vanished).

Every source of state speaks in `Event`s: Claude Code's hooks (the first
source), screen profiles (`sessions.profiles`: for agents without hooks, and as
the watchdog of hooked ones), process activity (`sessions.activity`), tmux's
view of the pane, the person (input, a look) and the engine (a limit reset).
`TABLE` says, for every state and every event, the next state; `decide` reads
it. The table is written out as text below so that it can be read whole, and
`docs/ARCHITECTURE.md` shows the same text (a test keeps them equal).

Screens and processes only say what a pane looks like *now*; whether a prompt
means `waiting` (a turn ended and nobody has looked yet) or `idle` (nothing
was ever asked, or the person just took over) depends on the state it comes
from, which is what the table's screen rows encode.
"""

from __future__ import annotations

from collections.abc import Mapping
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
# States that only an event ends: hooks say when they begin, but nothing fires when
# the person presses Esc, says No or accepts the trust dialog, so while a hooked
# session is in one of these its screen is read too (the watchdog) and corrects it.
WATCHED_STATES = frozenset({State.STARTING, State.BUSY, State.RETRYING, State.PERMISSION})


class Source(StrEnum):
    HOOK = "hook"
    SCREEN = "screen"
    # The screen of a hooked session contradicted the state its hooks left.
    WATCHDOG = "watchdog"
    PROCESS = "process"
    TMUX = "tmux"
    USER = "user"
    ENGINE = "engine"


class Event(StrEnum):
    """What can happen to a session, whatever the source."""

    # Claude Code hooks.
    STARTED = "started"  # SessionStart (startup, resume, clear)
    COMPACTED = "compacted"  # SessionStart after a compaction: mid-turn, nothing new
    PROMPT = "prompt"  # UserPromptSubmit
    TOOL = "tool"  # PreToolUse, PostToolUse(Failure), PreCompact
    INTERRUPTED = "interrupted"  # PostToolUseFailure is_interrupt: Esc while a tool ran
    ASKS = "asks"  # PermissionRequest, Notification permission_prompt
    NEEDS_INPUT = "needs_input"  # Notification elicitation_dialog, agent_needs_input
    IDLE_PROMPT = "idle_prompt"  # Notification idle_prompt: at the prompt for a minute
    STOP = "stop"  # Stop: the turn ended
    STOP_LIMIT = "stop_limit"  # StopFailure rate_limit
    STOP_ERROR = "stop_error"  # StopFailure, any other error
    CLEARED = "cleared"  # SessionEnd clear: /clear, a SessionStart follows
    ENDED = "ended"  # SessionEnd, any other reason
    # What the screen shows (profile rules; the watchdog of hooked sessions).
    SCREEN_BUSY = "screen_busy"  # a spinner, "esc to interrupt"
    SCREEN_RETRYING = "screen_retrying"  # "retrying in 12s · attempt 3/10"
    SCREEN_DIALOG = "screen_dialog"  # a permission or trust dialog
    SCREEN_LIMIT = "screen_limit"  # a usage-limit notice
    SCREEN_PROMPT = "screen_prompt"  # the agent's empty input prompt
    # A hooked session's empty prompt while no hook has ended its turn (the watchdog).
    SCREEN_BARE_PROMPT = "screen_bare_prompt"
    SCREEN_INTERRUPTED = "screen_interrupted"  # the person took over: Esc, No, typed text
    SCREEN_IDLE = "screen_idle"  # a shell prompt
    # Process activity.
    PROCESS_BUSY = "process_busy"
    PROCESS_QUIET = "process_quiet"  # an agent's tree went quiet (like its prompt)
    PROCESS_QUIET_IDLE = "process_quiet_idle"  # a shell's tree went quiet
    # The person.
    INPUT = "input"  # text sent through podium
    LOOKED = "looked"  # focused the pane (attach, next, tmux focus)
    # The engine.
    LIMIT_RESET = "limit_reset"  # a limited session's reset time passed
    # tmux.
    PANE_DEAD = "pane_dead"
    PANE_GONE = "pane_gone"
    PANE_BACK = "pane_back"  # a vanished session's tagged pane seen again


# state × event → next state. Columns are the states, rows the events; `.` keeps the
# state. Each row says why in the comment after it.
RULES_TEXT = """\
event               starting   busy       retrying   waiting    seen       permission idle       limited    exited     lost
started             idle       idle       idle       idle       idle       idle       .          idle       idle       .
compacted           .          .          .          .          .          .          .          .          .          .
prompt              busy       .          busy       busy       busy       busy       busy       busy       .          .
tool                busy       .          busy       busy       busy       busy       busy       busy       .          .
interrupted         idle       idle       idle       .          .          idle       .          idle       .          .
asks                permission permission permission permission permission .          permission permission .          .
needs_input         .          waiting    waiting    .          .          .          .          .          .          .
idle_prompt         waiting    waiting    .          .          .          .          .          .          .          .
stop                waiting    waiting    waiting    .          waiting    waiting    waiting    waiting    .          .
stop_limit          limited    limited    limited    limited    limited    limited    limited    .          .          .
stop_error          waiting    waiting    waiting    .          waiting    waiting    waiting    waiting    .          .
cleared             .          .          .          .          .          .          .          .          .          .
ended               exited     exited     exited     exited     exited     exited     exited     exited     .          .
screen_busy         busy       .          busy       busy       busy       busy       busy       busy       .          .
screen_retrying     retrying   retrying   .          retrying   retrying   retrying   retrying   retrying   .          .
screen_dialog       permission permission permission permission permission .          permission permission .          .
screen_limit        limited    limited    limited    limited    limited    limited    limited    .          .          .
screen_prompt       idle       waiting    waiting    .          .          waiting    .          waiting    .          .
screen_interrupted  idle       idle       idle       .          .          idle       .          idle       .          .
screen_bare_prompt  idle       idle       idle       .          .          idle       .          waiting    .          .
screen_idle         idle       idle       idle       idle       idle       idle       .          idle       .          .
process_busy        .          .          busy       busy       busy       busy       busy       busy       .          .
process_quiet       idle       waiting    waiting    .          .          waiting    .          waiting    .          .
process_quiet_idle  idle       idle       idle       idle       idle       idle       .          idle       .          .
input               .          .          .          busy       busy       busy       busy       busy       .          .
looked              .          .          .          seen       .          .          .          .          .          .
limit_reset         .          .          .          .          .          .          .          idle       .          .
pane_dead           exited     exited     exited     exited     exited     exited     exited     exited     .          .
pane_gone           lost       lost       lost       lost       lost       lost       lost       lost       lost       .
pane_back           .          .          .          .          .          .          .          .          .          idle
"""  # noqa: E501 (a table reads best as one row per line)

# Why the less obvious cells are what they are:
# - started: SessionStart begins a conversation (launch, resume, /clear, trust accepted):
#   whatever the old one left is over. `compacted` fires mid-turn and changes nothing.
# - cleared: /clear ends one conversation and starts the next; never `exited`.
# - interrupted: the one hook an Esc fires, and only while a tool runs.
# - screen_interrupted: Claude Code says "Interrupted" or "Rejected" (Esc during a turn,
#   Esc or No at a dialog) and waits at its prompt, no hook fired: the person is there,
#   nothing waits for them (`idle`). A bare prompt after work is a finished turn whose
#   Stop was missed, or which ran between two looks (`waiting`).
# - screen_bare_prompt: a hooked session's screen at its empty prompt, seen twice by the
#   watchdog, while its state still waits on a hook. Claude Code fires Stop (or
#   StopFailure) for every turn that ends by itself, so no hook means the person ended
#   it: Esc twice (the second clears the prompt Esc put back), Ctrl+C, a cleared draft
#   (`idle`). A Stop that comes late still makes it `waiting`.
# - process_busy leaves `starting` alone: loading is not a turn.
# - input to a retry loop or a starting agent changes nothing the screen would not
#   contradict at once; `looked` turns only a finished turn into `seen`.


def _parse(text: str) -> dict[Event, dict[State, State]]:
    lines = text.splitlines()
    columns = [State(word) for word in lines[0].split()[1:]]
    table: dict[Event, dict[State, State]] = {}
    for line in lines[1:]:
        words = line.split()
        event, cells = Event(words[0]), words[1:]
        if len(cells) != len(columns):
            raise ValueError(f"state table row {event.value!r} has {len(cells)} cells")
        table[event] = {
            s: (s if c == "." else State(c)) for s, c in zip(columns, cells, strict=True)
        }
    return table


TABLE: Mapping[Event, Mapping[State, State]] = _parse(RULES_TEXT)


@dataclass(frozen=True)
class Change:
    """A decided transition: the new state and why."""

    state: State
    source: Source
    detail: str = ""


def decide(current: State, event: Event, source: Source, detail: str = "") -> Change | None:
    """The change `event` makes to a session in `current`, or None when it stays."""
    target = TABLE[event][current]
    if target is current:
        return None
    return Change(target, source, detail or event.value)


def hook_event(event: str, payload: Mapping[str, object]) -> tuple[Event, str] | None:
    """A Claude Code hook as an `Event`, with the detail stored with a change; None for
    hook events that say nothing about the state (SubagentStop, SessionStart's matchers…)."""
    if event == "SessionStart":
        source = payload.get("source")
        if source == "compact":
            return Event.COMPACTED, "SessionStart compact"
        return Event.STARTED, f"SessionStart {source}" if isinstance(source, str) else event
    if event == "UserPromptSubmit":
        return Event.PROMPT, event
    if event == "PostToolUseFailure" and payload.get("is_interrupt") is True:
        return Event.INTERRUPTED, f"{event} interrupt"
    if event in ("PreToolUse", "PostToolUse", "PostToolUseFailure", "PreCompact"):
        return Event.TOOL, event
    if event == "PermissionRequest":
        tool = payload.get("tool_name")
        return Event.ASKS, f"{event} {tool}" if isinstance(tool, str) else event
    if event == "Notification":
        kind = payload.get("notification_type")
        detail = f"{event} {kind}"
        if kind == "permission_prompt":
            return Event.ASKS, detail
        if kind in ("elicitation_dialog", "agent_needs_input"):
            return Event.NEEDS_INPUT, detail
        if kind == "idle_prompt":
            return Event.IDLE_PROMPT, detail
        return None
    if event == "Stop":
        return Event.STOP, event
    if event == "StopFailure":
        error = payload.get("error")
        detail = f"{event} {error}"
        return (Event.STOP_LIMIT if error == "rate_limit" else Event.STOP_ERROR), detail
    if event == "SessionEnd":
        reason = payload.get("reason")
        detail = f"{event} {reason}" if isinstance(reason, str) else event
        return (Event.CLEARED if reason == "clear" else Event.ENDED), detail
    return None


def from_hook(current: State, event: str, payload: Mapping[str, object]) -> Change | None:
    """The state a Claude Code hook event implies, or None when it says nothing new."""
    found = hook_event(event, payload)
    if found is None:
        return None
    return decide(current, found[0], Source.HOOK, found[1])


def from_pane(
    current: State, *, present: bool, dead: bool, dead_status: int | None
) -> Change | None:
    """What tmux's view of the pane implies: gone → lost (from any state), ended → exited."""
    if not present:
        return decide(current, Event.PANE_GONE, Source.TMUX, "pane vanished")
    if dead:
        return decide(current, Event.PANE_DEAD, Source.TMUX, f"exit status {dead_status}")
    return None


# What a screen profile rule may report, and the event each word is.
SCREEN_EVENTS: Mapping[str, Event] = {
    "busy": Event.SCREEN_BUSY,
    "retrying": Event.SCREEN_RETRYING,
    "permission": Event.SCREEN_DIALOG,
    "limited": Event.SCREEN_LIMIT,
    "waiting": Event.SCREEN_PROMPT,
    "interrupted": Event.SCREEN_INTERRUPTED,
    "idle": Event.SCREEN_IDLE,
}


def from_screen(
    current: State, observed: str, detail: str = "", *, source: Source = Source.SCREEN
) -> Change | None:
    """What a screen profile's verdict implies (`observed` is a word of SCREEN_EVENTS)."""
    event = SCREEN_EVENTS.get(observed)
    if event is None:
        return None
    if event is Event.SCREEN_PROMPT and source is Source.WATCHDOG:
        event = Event.SCREEN_BARE_PROMPT
    return decide(current, event, source, detail or f"screen: {observed}")


def from_process(
    current: State, *, busy: bool, quiet: State = State.WAITING, detail: str = ""
) -> Change | None:
    """What process activity implies, for agents whose screen says nothing.

    `quiet` is what a quiet process tree means for this agent: `waiting` for an
    agent (a prompt), `idle` for a shell.
    """
    if busy:
        event = Event.PROCESS_BUSY
    else:
        event = Event.PROCESS_QUIET_IDLE if quiet is State.IDLE else Event.PROCESS_QUIET
    return decide(current, event, Source.PROCESS, detail or ("busy" if busy else "quiet"))
