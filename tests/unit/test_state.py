"""The pure state rules: what each hook event and pane fact implies."""

from __future__ import annotations

import pytest

from sessions.state import Source, State, from_hook, from_pane, from_process, from_screen


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
        (State.STARTING, State.WAITING, State.IDLE),  # at its prompt, never asked anything
        (State.IDLE, State.WAITING, None),  # typing into the prompt stays idle
        (State.BUSY, State.WAITING, State.WAITING),  # a finished turn, not yet seen
        (State.PERMISSION, State.WAITING, State.WAITING),
        (State.LIMITED, State.WAITING, State.WAITING),  # the notice scrolled away
        (State.WAITING, State.WAITING, None),
        (State.WAITING, State.BUSY, State.BUSY),
        (State.STARTING, State.BUSY, State.BUSY),
        (State.BUSY, State.PERMISSION, State.PERMISSION),
        (State.BUSY, State.LIMITED, State.LIMITED),
        (State.BUSY, State.IDLE, State.IDLE),  # a shell back at its prompt
        (State.EXITED, State.WAITING, None),  # final stays final
        (State.LOST, State.BUSY, None),
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
    assert from_screen(State.BUSY, State.EXITED) is None


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
