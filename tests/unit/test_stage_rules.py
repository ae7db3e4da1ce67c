"""The stage's pure rules: widths, capacity, tmux layout strings, reading the stage back."""

from __future__ import annotations

import pytest

from collectors.settings import UiSettings
from sessions import stage
from sessions.tmux import PaneInfo

MIN = UiSettings().session_min_width  # 60


def test_tower_width_is_a_quarter_clamped():
    assert stage.tower_width(100, MIN) == stage.TOWER_MIN_WIDTH
    assert stage.tower_width(130, MIN) == 32  # 25% of 130, floored as tmux does
    assert stage.tower_width(200, MIN) == stage.TOWER_MAX_WIDTH
    assert stage.tower_width(10, MIN) == 10  # never wider than the window


def test_a_narrow_tower_leaves_one_session_its_minimum():
    # 80 columns: the tower takes what a session of 60 leaves (and a border).
    assert stage.tower_width(80, MIN) == 19 == stage.TOWER_FLOOR
    assert stage.tower_width(85, MIN) == 24
    assert stage.tower_width(89, MIN) == stage.TOWER_MIN_WIDTH  # room for both again
    # Narrower still, the tower keeps its floor and the one session gets less.
    assert stage.tower_width(70, MIN) == stage.TOWER_FLOOR
    # A large minimum narrows the tower in wide windows too.
    assert stage.tower_width(200, 170) == 29


@pytest.mark.parametrize("width", [40, 60, 80, 81, 120, 131, 200, 317])
@pytest.mark.parametrize("sessions", [0, 1, 2, 3, 5])
def test_widths_fill_the_window_exactly(width: int, sessions: int):
    cells = stage.widths(width, sessions, session_min=MIN)
    assert cells is not None
    assert sum(cells) + len(cells) - 1 == width  # one-column borders between cells
    if sessions >= 2:
        assert max(cells[1:]) - min(cells[1:]) <= sessions - 1
        assert cells[1:-1] == [cells[1]] * (sessions - 1)  # the last takes the remainder


def test_widths_give_way_in_a_tiny_window():
    assert stage.widths(8, 3, session_min=MIN) == [2, 1, 1, 1]
    assert stage.widths(5, 3, session_min=MIN) is None


@pytest.mark.parametrize(
    ("width", "shown", "cells"),
    [
        (80, 1, [19, 60]),  # the smallest terminal podium is made for: one session of 60
        (100, 1, [28, 71]),
        (120, 1, [30, 89]),
        (150, 1, [37, 112]),  # two would get 55 and 56
        (162, 2, [40, 60, 60]),
        (200, 2, [40, 79, 79]),
        (223, 3, [40, 60, 60, 60]),
        (60, 1, [19, 40]),  # narrower than 80: one session, with less than its minimum
    ],
)
def test_sessions_never_get_fewer_than_the_minimum_but_one_always_stands(
    width: int, shown: int, cells: list[int]
):
    assert stage.stage_capacity(width, 3, MIN) == shown
    assert stage.widths(width, shown, session_min=MIN) == cells


def test_capacity_follows_the_minimum():
    assert stage.stage_capacity(80, 3, 12) == 3  # 28 + 3 x 16
    assert stage.stage_capacity(200, 3, 52) == 3
    assert stage.stage_capacity(200, 3, 53) == 2
    assert stage.stage_capacity(20, 3, MIN) == 1  # a session brought forward always gets one
    assert stage.stage_capacity(900, 9, MIN) == 9


def test_layout_string_matches_tmux():
    # A layout tmux 3.3a printed itself (window_layout), checksum included.
    assert stage.checksum("200x50,0,0{100x50,0,0,0,49x50,101,0,1,24x50,151,0,2,24x50,176,0,3}") == (
        "0d8a"
    )
    nested = stage.layout_string(200, 50, [0, 1, 2, 3], session_min=12)
    assert (
        nested
        == "546b,200x50,0,0{40x50,0,0,0,159x50,41,0{52x50,41,0,1,52x50,94,0,2,53x50,147,0,3}}"
    )
    for panes, body in (
        ([4, 7], "200x50,0,0{40x50,0,0,4,159x50,41,0,7}"),  # one session: no nesting
        ([4], "200x50,0,0,4"),  # the tower alone, full width
    ):
        assert stage.layout_string(200, 50, panes, session_min=MIN) == (
            f"{stage.checksum(body)},{body}"
        )
    assert stage.layout_string(5, 50, [1, 2, 3, 4], session_min=MIN) is None


def test_resize_hook_is_ids_and_numbers():
    hook = stage.resize_hook("@3", "%7", MIN)
    assert hook.startswith('select-layout -E -t "@3.{right}" ; run-shell -t "%7" -C "resize-pane')
    assert "#{e|-:#{window_width},61}" in hook  # beside one session of 60, and a border
    assert "#{e|<:#{window_width},112}" in hook and "#{e|>:#{window_width},160}" in hook
    assert stage.resize_hook("@3", None, MIN) == 'select-layout -E -t "@3.{right}"'


def _pane(pane_id: str, window: str, left: int, width: int, **kw: object) -> PaneInfo:
    base: dict[str, object] = dict(
        session_id="$0",
        session_name="podium",
        window_id=window,
        window_name="w",
        window_index=int(window.lstrip("@")),
        pane_id=pane_id,
        pid=1,
        dead=False,
        dead_status=None,
        current_command="x",
        active=False,
        window_active=False,
        session_attached=False,
        window_activity=0,
        title="",
        pane_index=0,
        pane_left=left,
        pane_width=width,
        window_width=200,
        window_height=50,
    )
    base.update(kw)
    return PaneInfo(**base)  # type: ignore[arg-type]


def test_read_view_finds_tower_staged_and_parked():
    panes = [
        _pane("%9", "@0", 0, 200, podium_session="p1"),
        _pane("%1", "@1", 0, 40, role="tower", pane_index=0),
        _pane("%3", "@1", 147, 53, role="stage", podium_session="s3", pane_index=2),
        _pane("%2", "@1", 41, 105, role="stage", podium_session="s2", pane_index=1),
        _pane("%5", "@5", 0, 200, podium_session="other", session_name="elsewhere"),
    ]
    view = stage.read_view(panes, "podium")
    assert view.window_id == "@1" and view.tower is not None and view.tower.pane_id == "%1"
    assert [p.podium_session for p in view.staged] == ["s2", "s3"]  # left to right
    assert [p.podium_session for p in view.parked] == ["p1"]
    assert view.tags == {"p1", "s2", "s3", "other"}
    assert not view.layout_ok(MIN)  # 105 and 53: not shared equally
    even = [*panes[:2], _pane("%2", "@1", 41, 79, role="stage", podium_session="s2"),
            _pane("%3", "@1", 121, 79, role="stage", podium_session="s3")]  # fmt: skip
    assert stage.read_view(even, "podium").layout_ok(MIN)


def test_a_stage_of_the_tower_alone_is_found():
    view = stage.read_view([_pane("%1", "@1", 0, 200, role="tower")], "podium")
    assert view.exists and view.staged == [] and view.layout_ok(MIN)
    assert not stage.read_view([_pane("%1", "@1", 0, 200)], "podium").exists
