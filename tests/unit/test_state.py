"""The pure state rules: the state × event table, walked whole, and what each source implies."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from collectors.settings import ScreenState
from collectors.spool import HOOK_EVENTS
from sessions.state import (
    FINAL_STATES,
    RULES_TEXT,
    SCREEN_EVENTS,
    TABLE,
    WATCHED_STATES,
    Event,
    Source,
    State,
    decide,
    from_hook,
    from_pane,
    from_process,
    from_screen,
    hook_event,
)

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"
SCREEN_ROWS = {e for e in Event if e.value.startswith(("screen_", "process_"))}
CELLS = [(state, event) for event in Event for state in State]


def test_the_table_has_a_cell_for_every_state_and_event():
    assert set(TABLE) == set(Event)
    for event, row in TABLE.items():
        assert set(row) == set(State), event


@pytest.mark.parametrize(("state", "event"), CELLS, ids=lambda x: x.value)
def test_every_cell_decides_through_decide(state, event):
    change = decide(state, event, Source.ENGINE, "why")
    target = TABLE[event][state]
    if target is state:
        assert change is None
    else:
        assert change is not None and change.state is target
        assert change.source is Source.ENGINE and change.detail == "why"
    # Only a launch makes a session `starting`.
    assert target is not State.STARTING or state is State.STARTING
    # A screen or a process cannot end a session or revive one.
    if event in SCREEN_ROWS:
        assert target not in FINAL_STATES or target is state
        assert state not in FINAL_STATES or target is state
    # Final states are left only by a new conversation, tmux or a re-adopted pane.
    if state in FINAL_STATES and target is not state:
        assert (state, event, target) in {
            (State.EXITED, Event.STARTED, State.IDLE),
            (State.EXITED, Event.PANE_GONE, State.LOST),
            (State.LOST, Event.PANE_BACK, State.IDLE),
        }
    # `seen` is entered only by a look at a finished turn.
    if target is State.SEEN and state is not State.SEEN:
        assert (state, event) == (State.WAITING, Event.LOOKED)


@pytest.mark.parametrize("state", sorted(WATCHED_STATES), ids=str)
def test_the_watchdog_can_end_every_state_it_watches(state):
    """Esc, No, trust accepted: for each watched state some screen leaves it."""
    leaving = {e for e in SCREEN_ROWS if TABLE[e][state] is not state}
    assert Event.SCREEN_INTERRUPTED in leaving or state is State.STARTING
    assert Event.SCREEN_PROMPT in leaving


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        # §1: Esc during a turn, the screen back at the prompt with nothing new said.
        (State.BUSY, Event.SCREEN_INTERRUPTED, State.IDLE),
        # §2: Esc or No at a permission dialog.
        (State.PERMISSION, Event.SCREEN_INTERRUPTED, State.IDLE),
        (State.PERMISSION, Event.SCREEN_PROMPT, State.WAITING),  # Yes, and the turn ended
        # §3: the trust dialog, then SessionStart once it is accepted.
        (State.STARTING, Event.SCREEN_DIALOG, State.PERMISSION),
        (State.PERMISSION, Event.STARTED, State.IDLE),
        # §4: a retry loop is its own state, its end a limit or a turn.
        (State.BUSY, Event.SCREEN_RETRYING, State.RETRYING),
        (State.RETRYING, Event.SCREEN_BUSY, State.BUSY),
        (State.RETRYING, Event.STOP_LIMIT, State.LIMITED),
        (State.RETRYING, Event.SCREEN_LIMIT, State.LIMITED),
        (State.RETRYING, Event.STOP, State.WAITING),
        # §5: /clear never flickers through exited.
        (State.WAITING, Event.CLEARED, State.WAITING),
        (State.WAITING, Event.STARTED, State.IDLE),
        # §6: a look makes a finished turn `seen`; typing leaves it seen.
        (State.WAITING, Event.LOOKED, State.SEEN),
        (State.SEEN, Event.SCREEN_INTERRUPTED, State.SEEN),
        (State.SEEN, Event.PROMPT, State.BUSY),
        # A compaction mid-turn is no new conversation.
        (State.BUSY, Event.COMPACTED, State.BUSY),
    ],
)
def test_the_cells_the_issue_names(state, event, expected):
    assert TABLE[event][state] is expected


def test_the_architecture_doc_shows_the_table():
    assert RULES_TEXT in ARCHITECTURE.read_text()


@pytest.mark.parametrize("name", HOOK_EVENTS)
@pytest.mark.parametrize(
    "payload",
    [{}, {"source": None, "reason": 3, "error": [], "notification_type": {}, "tool_name": 7}],
)
def test_every_hook_event_maps_or_says_nothing(name, payload):
    found = hook_event(name, payload)
    assert found is None or (isinstance(found[0], Event) and isinstance(found[1], str))


def test_screen_words_are_the_settings_words():
    assert set(get_args(ScreenState)) == set(SCREEN_EVENTS)


@pytest.mark.parametrize(
    ("current", "event", "payload", "expected"),
    [
        (State.STARTING, "SessionStart", {"source": "startup"}, State.IDLE),
        (State.IDLE, "UserPromptSubmit", {"prompt": "hi"}, State.BUSY),
        (State.WAITING, "UserPromptSubmit", {}, State.BUSY),
        (State.BUSY, "PermissionRequest", {"tool_name": "Write"}, State.PERMISSION),
        (State.BUSY, "Notification", {"notification_type": "permission_prompt"}, State.PERMISSION),
        (State.PERMISSION, "PreToolUse", {"tool_name": "Write"}, State.BUSY),
        (State.BUSY, "Stop", {}, State.WAITING),
        (State.PERMISSION, "Stop", {}, State.WAITING),
        (State.BUSY, "StopFailure", {"error": "rate_limit"}, State.LIMITED),
        (State.BUSY, "StopFailure", {"error": "server_error"}, State.WAITING),
        (State.WAITING, "SessionEnd", {"reason": "prompt_input_exit"}, State.EXITED),
        (State.PERMISSION, "SessionStart", {"source": "startup"}, State.IDLE),  # trust accepted
        (State.BUSY, "SessionStart", {"source": "clear"}, State.IDLE),
    ],
)
def test_hook_events_move_state(current, event, payload, expected):
    change = from_hook(current, event, payload)
    assert change is not None
    assert change.state is expected
    assert change.source is Source.HOOK


@pytest.mark.parametrize(
    ("current", "event", "payload"),
    [
        (State.BUSY, "UserPromptSubmit", {}),  # already busy
        (State.WAITING, "Notification", {"notification_type": "idle_prompt"}),
        (State.BUSY, "SubagentStop", {}),
        (State.EXITED, "Stop", {}),  # nothing revives an exited session but a new start
        (State.IDLE, "SessionStart", {"source": "clear"}),
        (State.BUSY, "SessionStart", {"source": "compact"}),  # mid-turn compaction
        (State.WAITING, "SessionEnd", {"reason": "clear"}),  # /clear is no exit
    ],
)
def test_events_that_change_nothing(current, event, payload):
    assert from_hook(current, event, payload) is None


def test_resumed_session_start_leaves_exited():
    change = from_hook(State.EXITED, "SessionStart", {"source": "resume"})
    assert change is not None and change.state is State.IDLE


def test_pane_facts():
    gone = from_pane(State.BUSY, present=False, dead=False, dead_status=None)
    assert gone is not None and gone.state is State.LOST
    dead = from_pane(State.WAITING, present=True, dead=True, dead_status=3)
    assert dead is not None and dead.state is State.EXITED and "3" in dead.detail
    assert from_pane(State.BUSY, present=True, dead=False, dead_status=None) is None
    assert from_pane(State.LOST, present=False, dead=False, dead_status=None) is None


def test_an_exited_session_whose_pane_vanishes_is_lost():
    gone = from_pane(State.EXITED, present=False, dead=False, dead_status=None)
    assert gone is not None and gone.state is State.LOST
    assert from_pane(State.EXITED, present=True, dead=True, dead_status=0) is None


def test_idle_prompt_only_reopens_a_missed_stop():
    note = {"notification_type": "idle_prompt"}
    change = from_hook(State.BUSY, "Notification", note)
    assert change is not None and change.state is State.WAITING
    assert from_hook(State.IDLE, "Notification", note) is None
    assert from_hook(State.WAITING, "Notification", note) is None


@pytest.mark.parametrize(
    ("current", "observed", "expected"),
    [
        (State.STARTING, "waiting", State.IDLE),  # at its prompt, never asked anything
        (State.IDLE, "waiting", None),  # typing into the prompt stays idle
        (State.BUSY, "waiting", State.WAITING),  # a finished turn, not yet seen
        (State.PERMISSION, "waiting", State.WAITING),  # approved, and the turn ended
        (State.PERMISSION, "interrupted", State.IDLE),  # declined at the pane
        (State.LIMITED, "waiting", State.WAITING),  # the notice scrolled away
        (State.WAITING, "waiting", None),
        (State.WAITING, "busy", State.BUSY),
        (State.STARTING, "busy", State.BUSY),
        (State.BUSY, "permission", State.PERMISSION),
        (State.BUSY, "limited", State.LIMITED),
        (State.BUSY, "retrying", State.RETRYING),
        (State.BUSY, "interrupted", State.IDLE),  # Esc
        (State.WAITING, "interrupted", None),  # typing after a turn: still their move
        (State.BUSY, "idle", State.IDLE),  # a shell back at its prompt
        (State.EXITED, "waiting", None),  # final stays final
        (State.LOST, "busy", None),
    ],
)
def test_screen_verdicts(current, observed, expected):
    change = from_screen(current, observed, "why")
    if expected is None:
        assert change is None
    else:
        assert change is not None and change.state is expected
        assert change.source is Source.SCREEN and change.detail == "why"


def test_a_screen_cannot_claim_a_final_state():
    assert from_screen(State.BUSY, "exited") is None


def test_the_watchdog_source_is_stored_with_its_change():
    change = from_screen(State.BUSY, "interrupted", "interrupted", source=Source.WATCHDOG)
    assert change is not None and change.source is Source.WATCHDOG


@pytest.mark.parametrize("state", sorted(WATCHED_STATES), ids=str)
def test_a_bare_prompt_no_hook_announced_is_the_person_ending_the_turn(state):
    # Esc twice in a turn: the first puts the prompt back in the box, the second clears
    # it; the screen says nothing of an interrupt and no Stop hook fired.
    change = from_screen(state, "waiting", "input prompt", source=Source.WATCHDOG)
    assert change is not None and (change.state, change.source) == (State.IDLE, Source.WATCHDOG)
    # A screen-only agent's bare prompt after work is still a finished turn.
    if state is not State.STARTING:
        assert from_screen(state, "waiting").state is State.WAITING  # type: ignore[union-attr]
    # The Stop that comes late still says the turn ended for them.
    assert decide(State.IDLE, Event.STOP, Source.HOOK).state is State.WAITING  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("current", "busy", "quiet", "expected"),
    [
        (State.STARTING, True, State.WAITING, None),  # loading is not a turn
        (State.STARTING, False, State.WAITING, State.IDLE),
        (State.IDLE, True, State.IDLE, State.BUSY),  # a shell runs a command
        (State.BUSY, False, State.IDLE, State.IDLE),  # … and is back
        (State.BUSY, False, State.WAITING, State.WAITING),  # an agent finished a turn
        (State.WAITING, True, State.WAITING, State.BUSY),
        (State.WAITING, False, State.WAITING, None),
        (State.PERMISSION, False, State.WAITING, State.WAITING),
        (State.EXITED, True, State.WAITING, None),
    ],
)
def test_process_verdicts(current, busy, quiet, expected):
    change = from_process(current, busy=busy, quiet=quiet)
    if expected is None:
        assert change is None
    else:
        assert change is not None and change.state is expected
        assert change.source is Source.PROCESS
