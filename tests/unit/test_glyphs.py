"""One glyph per state, and every place that shows a state uses it."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.cells import cell_len

from collectors.settings import CuesSettings
from sessions import cues, wire
from sessions.glyphs import GLYPHS, UNKNOWN, glyph
from sessions.state import State
from tui.widgets.session_row import row_cells


def test_every_state_has_its_own_one_cell_glyph():
    assert set(GLYPHS) == {s.value for s in State}
    assert len(set(GLYPHS.values())) == len(GLYPHS)  # no two states look alike
    assert all(cell_len(g) == 1 for g in GLYPHS.values())
    assert UNKNOWN not in GLYPHS.values()
    assert glyph("from-a-newer-engine") == UNKNOWN


def test_tower_border_and_status_line_show_the_same_glyph():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cfg = CuesSettings()
    for state in State:
        s = state.value
        session = wire.Session(
            id="x", name="x", agent="sim", argv=[], state=s, state_since=now.isoformat(),
            created_at=now.isoformat(), pane_id="%1", window_id="@1", tmux_socket="t", cwd="/",
        )  # fmt: skip
        assert row_cells(session, now).glyph == GLYPHS[s]
        title = cues.title_for(cues.SessionCue(1, "x", s, "%1"))
        assert title == f"1 x · {GLYPHS[s]} {s}"
        if state in cues.COUNTED:
            assert f"{GLYPHS[s]} 1 {s}" in cues.counts_text([s], cfg)
