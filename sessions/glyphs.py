"""One glyph per session state, the same wherever podium shows a state.

The tower's rows, the tmux pane border titles and the status-line counts all
take their symbol from here, so a person learns one shape per state. Here, in
`sessions`, because the cues (`sessions.cues`) need it and `sessions` never
imports `tui`; the tower imports it from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sessions.state import State

GLYPHS: Mapping[str, str] = MappingProxyType(
    {
        State.STARTING.value: "◌",
        State.BUSY.value: "●",
        # Claude Code retries a failed API call by itself: moving, no input needed.
        State.RETRYING.value: "↻",
        State.WAITING.value: "◆",
        # A finished turn looked at but not answered: the waiting diamond, hollow.
        State.SEEN.value: "◇",
        # A warning sign: blocked mid-task until the person answers.
        State.PERMISSION.value: "▲",
        # A clock: nothing to do but wait for the limit's reset.
        State.LIMITED.value: "◷",
        State.IDLE.value: "○",
        State.EXITED.value: "✕",
        State.LOST.value: "?",
    }
)

# For a state this podium does not know (an engine of another version).
UNKNOWN = "·"


def glyph(state: str) -> str:
    """The state's glyph; `UNKNOWN` for a state not in `GLYPHS`."""
    return GLYPHS.get(state, UNKNOWN)
