"""The stage: the control tower and up to N agent panes side by side in one tmux window.

```
┌ tower ┬ api ───────┬ web ───────┬ docs ──────┐
│       │            │            │            │   stage window (@podium_role=stage)
│       │            │            │            │   parked sessions: one window each,
└───────┴────────────┴────────────┴────────────┘   named after the session
```

tmux holds the truth. The stage window carries the window option
`@podium_role=stage`, the tower's pane the pane option `@podium_role=tower`
(the other panes of the window inherit `stage`), and every agent pane its
`@podium_session` tag; so the layout is read back from one `list-panes -a`
every time, and an engine restarted (or a second one) finds the same stage.
A *parked* session is a tagged pane of podium's tmux session outside the
stage window: `break-pane -d` gives each its own window, named after the
session, where a person can still look with tmux's own keys.

This module has the pure rules (widths, layout strings, the resize hook) and
the blocking tmux operations; the engine decides when (sessions/engine/stage.py).
Everything runs as argv; the one tmux command string is the resize hook,
built from pane and window ids and numbers only.

Layout: the tower keeps a fixed width, a quarter of the window clamped to
[TOWER_MIN_WIDTH, TOWER_MAX_WIDTH], and the sessions share the rest equally,
each at least `ui.session_min_width` columns (`session_min`): a narrower
window shows fewer, down to one. Where even one session would get fewer, the
tower gives it columns, down to TOWER_FLOOR: at 80 columns the tower has 19
and the one session 60. With two or more sessions they sit in a container of
their own: when the window is resized, tmux's hook `window-resized` spreads
that container evenly (`select-layout -E`) and sets the tower's width again;
both are plain tmux commands, so the layout survives resizes even while no
engine runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sessions.tmux import SERVER_START, PaneInfo, Tmux, TmuxError, quote

ROLE_OPTION = "@podium_role"
STAGE_ROLE = "stage"
TOWER_ROLE = "tower"
# The tower pane's title (tmux's default is the host name); the cues' border
# format shows it for the pane of role `tower`.
TOWER_TITLE = "podium"
# The stage window's default name; the engine passes `ui.tower_window`, the
# window the cues' tower key (Alt-0) selects.
WINDOW_NAME = "tower"

TOWER_MIN_WIDTH = 28
TOWER_MAX_WIDTH = 40
TOWER_SHARE_PCT = 25
# The fewest columns the tower gives up to in a narrow window, so that a session
# keeps its minimum: each session on one line with its on-stage mark and glyph,
# its number, eight cells of its name and how long it waited, and the list's
# right margin (2+2+9+5+1), and both usage gauges with their bars. 19 is also
# what an 80-column terminal leaves beside a session of 60 (the default
# `ui.session_min_width`): the smallest stage podium is made for.
TOWER_FLOOR = 19
# The tower's pane, unlike an agent's (server-wide `on`), closes when the tower
# ends: q leaves no dead pane. (`failed` would keep a crashed one, but tmux 3.3a
# often sees a Textual app's terminal close before its exit status, and keeps the
# pane of a clean exit too.) A tower that fails waits for Enter itself, showing why.
TOWER_REMAIN = ("remain-on-exit", "off")

_SEP = "\x1f"


# -- the rules (pure) -------------------------------------------------------------
def tower_width(window_width: int, session_min: int) -> int:
    """The tower's columns: 25% of the window, within [TOWER_MIN_WIDTH, TOWER_MAX_WIDTH];
    where one session beside it would get fewer than `session_min` columns, what
    that session leaves, down to TOWER_FLOOR (the session then has less: at
    least it is the only one).

    Integer arithmetic as tmux's formats in the resize hook (`resize_hook`):
    both must give the same number.
    """
    share = max(TOWER_MIN_WIDTH, min(TOWER_MAX_WIDTH, window_width * TOWER_SHARE_PCT // 100))
    left = window_width - 1 - session_min  # beside one session of the minimum width
    if left < share:
        share = max(TOWER_FLOOR, left)
    return max(1, min(window_width, share))


def widths(
    window_width: int, sessions: int, *, session_min: int, tower: bool = True
) -> list[int] | None:
    """Columns of each cell left to right (the tower's first, if any); None if they
    cannot fit. Cells are separated by a one-column border; the last session
    takes the remainder, as tmux's `select-layout -E` does."""
    if sessions == 0:
        return [window_width] if tower and window_width > 0 else []
    room = window_width
    tower_cols = 0
    need = 2 * sessions - 1  # one column each, and the borders between them
    if tower:
        tower_cols = tower_width(window_width, session_min)
        if window_width - tower_cols - 1 < need:
            tower_cols = window_width - 1 - need  # a very narrow window: the tower gives way
        if tower_cols < 1:
            return None
        room = window_width - tower_cols - 1
    if room < need:
        return None
    each = (room - (sessions - 1)) // sessions
    cells = [each] * (sessions - 1) + [room - (each + 1) * (sessions - 1)]
    return ([tower_cols] if tower else []) + cells


def capacity(window_width: int, session_min: int, limit: int = 64) -> int:
    """How many sessions fit beside the tower with `session_min` columns each."""
    n = 0
    while n < limit:
        cells = widths(window_width, n + 1, session_min=session_min)
        if cells is None or min(cells[1:]) < session_min:
            break
        n += 1
    return n


def stage_capacity(window_width: int, stage_size: int, session_min: int) -> int:
    """Sessions the stage shows: `ui.stage_size`, fewer in a narrow window, never 0
    (a session brought forward always gets a place)."""
    return max(1, min(stage_size, capacity(window_width, session_min, stage_size)))


def checksum(body: str) -> str:
    """tmux's layout checksum (layout-custom.c), four hex digits."""
    csum = 0
    for ch in body:
        csum = ((csum >> 1) + ((csum & 1) << 15) + ord(ch)) & 0xFFFF
    return f"{csum:04x}"


def layout_string(
    window_width: int, window_height: int, panes: list[int], *, session_min: int, tower: bool = True
) -> str | None:
    """A `select-layout` string: the tower (first pane) then the sessions side by side.

    tmux gives the cells to the window's panes in their index order (the ids in
    the string are not used), so the tower must be the first pane. Two or more
    sessions go in a nested left-right container, which is what lets the resize
    hook spread them without touching the tower.
    """
    if not panes:
        return None
    sessions = len(panes) - (1 if tower else 0)
    cells = widths(window_width, sessions, session_min=session_min, tower=tower)
    if cells is None:
        return None
    h = window_height

    def cell(w: int, x: int, n: int) -> str:
        return f"{w}x{h},{x},0,{n}"

    def row(ws: list[int], x: int, ids: list[int]) -> str:
        parts = []
        for w, n in zip(ws, ids, strict=True):
            parts.append(cell(w, x, n))
            x += w + 1
        return ",".join(parts)

    size = f"{window_width}x{h},0,0"
    if len(panes) == 1:
        body = f"{size},{panes[0]}"
    elif not tower or sessions == 1:
        body = f"{size}{{{row(cells, 0, panes)}}}"
    else:
        rest_x = cells[0] + 1
        rest = f"{window_width - rest_x}x{h},{rest_x},0"
        inner = row(cells[1:], rest_x, panes[1:])
        body = f"{size}{{{cell(cells[0], 0, panes[0])},{rest}{{{inner}}}}}"
    return f"{checksum(body)},{body}"


def tower_width_format(session_min: int) -> str:
    """`tower_width` as a tmux format of `#{window_width}` (integer arithmetic)."""
    w = "#{window_width}"
    low = TOWER_MIN_WIDTH * 100 // TOWER_SHARE_PCT  # narrower: the share is below the clamp
    high = TOWER_MAX_WIDTH * 100 // TOWER_SHARE_PCT
    quarter = f"#{{e|/:#{{e|*:{w},{TOWER_SHARE_PCT}}},100}}"
    share = (
        f"#{{?#{{e|<:{w},{low}}},{TOWER_MIN_WIDTH},"
        f"#{{?#{{e|>:{w},{high}}},{TOWER_MAX_WIDTH},{quarter}}}}}"
    )
    left = f"#{{e|-:{w},{int(session_min) + 1}}}"
    floor = f"#{{?#{{e|<:{left},{TOWER_FLOOR}}},{TOWER_FLOOR},{left}}}"
    return f"#{{?#{{e|<:{left},{share}}},{floor},{share}}}"


def resize_hook(window_id: str, tower_pane: str | None, session_min: int) -> str:
    """The tmux commands `window-resized` runs in the stage window.

    First the rightmost pane's container is spread evenly (the sessions, or
    tower and session when there is one), then the tower gets its width back:
    `tower_width` in tmux's format arithmetic, which `run-shell -C` expands
    (tmux runs it as a tmux command, no shell; `resize-pane -x` itself takes
    no format). Ids and numbers only: no name or string setting goes in.
    """
    spread = f'select-layout -E -t "{window_id}.{{right}}"'
    if tower_pane is None:
        return spread
    resize = f"resize-pane -t {tower_pane} -x {tower_width_format(session_min)}"
    return f'{spread} ; run-shell -t "{tower_pane}" -C "{resize}"'


# -- what tmux shows ------------------------------------------------------------------
@dataclass(frozen=True)
class StageView:
    """The stage as tmux has it now, read from one `list-panes -a`."""

    session_name: str
    window_id: str | None = None
    width: int = 0
    height: int = 0
    tower: PaneInfo | None = None
    # Every pane of the stage window but the tower, left to right.
    cells: tuple[PaneInfo, ...] = ()
    # podium's panes in its tmux session outside the stage window.
    parked: tuple[PaneInfo, ...] = ()
    # Every `@podium_session` tag on the server (to tell a pane moved from a pane gone).
    tags: frozenset[str] = field(default_factory=frozenset)
    # One pane fills the window (the tower zooms for its wide screens).
    zoomed: bool = False

    @property
    def exists(self) -> bool:
        return self.window_id is not None

    @property
    def staged(self) -> list[PaneInfo]:
        """The session panes on stage, left to right."""
        return [p for p in self.cells if p.podium_session]

    def key(self) -> tuple[object, ...]:
        """What, changed, asks for a look: the window, its size, its panes."""
        return (
            self.window_id,
            self.width,
            self.height,
            self.tower.pane_id if self.tower else None,
            tuple(p.pane_id for p in self.cells),
        )

    def layout_ok(self, session_min: int) -> bool:
        """Tower leftmost at its width, every other pane full height, equal within a column.

        Loose on purpose: after the resize hook the sessions are equal to ±1
        column, not to the exact cells `layout_string` gives, and re-applying
        the exact layout would make them jump by a column for nothing.
        """
        if not self.exists or self.zoomed:
            # Zoomed, tmux keeps the layout aside and puts it back on unzoom: laying
            # it out now would undo the zoom for nothing.
            return True
        panes = sorted(self.cells, key=lambda p: p.pane_left)
        if self.tower is not None:
            panes.insert(0, self.tower)
        lefts = [p.pane_left for p in panes]
        if len(set(lefts)) != len(lefts):
            return False  # two panes one above the other: not our layout
        if sum(p.pane_width for p in panes) + len(panes) - 1 != self.width:
            return False
        if self.tower is not None:
            if self.tower.pane_left != 0:
                return False
            want = widths(self.width, len(self.cells), session_min=session_min)
            if want is not None and self.tower.pane_width != want[0]:
                return False
        others = [p.pane_width for p in panes[1 if self.tower else 0 :]]
        return not others or max(others) - min(others) <= 1


def read_view(panes: Iterable[PaneInfo], session_name: str) -> StageView:
    """The stage of tmux session `session_name` in a `list-panes -a` listing.

    The stage window is the first (by index) holding a pane marked `stage`
    (inherited from the window option), else one holding the tower's pane
    (a stage of the tower alone: the tower's own option hides the window's).
    """
    panes = list(panes)
    tags = frozenset(p.podium_session for p in panes if p.podium_session)
    mine = sorted(
        (p for p in panes if p.session_name == session_name),
        key=lambda p: (p.window_index, p.pane_index),
    )
    window = next((p for p in mine if p.role == STAGE_ROLE), None) or next(
        (p for p in mine if p.role == TOWER_ROLE), None
    )
    if window is None:
        return StageView(session_name, parked=tuple(p for p in mine if p.podium_session), tags=tags)
    inside = [p for p in mine if p.window_id == window.window_id]
    tower = next((p for p in inside if p.role == TOWER_ROLE), None)
    return StageView(
        session_name,
        window_id=window.window_id,
        width=window.window_width,
        height=window.window_height,
        tower=tower,
        cells=tuple(sorted((p for p in inside if p is not tower), key=lambda p: p.pane_left)),
        parked=tuple(p for p in mine if p.window_id != window.window_id and p.podium_session),
        tags=tags,
        zoomed=window.window_zoomed,
    )


# -- acting on tmux (blocking: the engine runs these in worker threads) ------------------
def read(tmux: Tmux, session_name: str) -> StageView:
    return read_view(tmux.list_panes(), session_name)


def ensure(
    tmux: Tmux,
    session_name: str,
    launch: Callable[[], list[str]],
    cwd: str,
    size: tuple[int, int] = (200, 50),
    window_name: str = WINDOW_NAME,
) -> StageView:
    """The stage window with a live tower, made or mended as needed.

    `launch()` gives the tower's argv (called only when a tower must start).
    A new stage window goes first in the tmux session; a tower pane that was
    killed comes back at the left edge; a tower that exited is respawned. The
    tower's pane closes when the tower ends (q), so no dead pane stays on stage
    (`TOWER_REMAIN`).
    """
    view = read(tmux, session_name)
    fmt = _SEP.join(("#{window_id}", "#{pane_id}"))
    # Server-wide, as for agent panes: a pane that ends keeps its last words.
    keep = ["set-option", "-g", "remain-on-exit", "on", ";"]
    if not view.exists:
        argv = launch()
        if tmux.has_session(session_name):
            out = tmux.run(
                *keep, "new-window", "-d", "-b", "-t", f"={session_name}:^",
                "-n", quote(window_name), "-P", "-F", fmt, "-c", quote(cwd), "--", *argv,
            )  # fmt: skip
        else:
            out = tmux.run(
                "start-server", ";", *SERVER_START, *keep,
                "new-session", "-d", "-s", quote(session_name),
                "-n", quote(window_name), "-x", str(size[0]), "-y", str(size[1]),
                "-P", "-F", fmt, "-c", quote(cwd), "--", *argv,
            )  # fmt: skip
        window_id, pane_id = out[0].split(_SEP)
        tmux.run(
            "set-option", "-w", "-t", window_id, ROLE_OPTION, STAGE_ROLE, ";",
            "set-option", "-p", "-t", pane_id, ROLE_OPTION, TOWER_ROLE,
        )  # fmt: skip
    elif view.tower is None:
        first = min(view.cells, key=lambda p: p.pane_index)
        out = tmux.run(
            "split-window", "-d", "-h", "-b", "-f", "-t", first.pane_id,
            "-P", "-F", fmt, "-c", quote(cwd), "--", *launch(),
        )  # fmt: skip
        tmux.run("set-option", "-p", "-t", out[0].split(_SEP)[1], ROLE_OPTION, TOWER_ROLE)
    elif view.tower.dead:
        tmux.run("respawn-pane", "-k", "-t", view.tower.pane_id, "-c", quote(cwd), "--", *launch())
    view = read(tmux, session_name)
    if view.tower is not None:
        # Every time: a stage made before these options gets them too.
        tower = view.tower.pane_id
        tmux.run(
            "set-option", "-p", "-t", tower, *TOWER_REMAIN, ";",
            "select-pane", "-t", tower, "-T", TOWER_TITLE,  # -T alone selects nothing
        )  # fmt: skip
    return view


def join(tmux: Tmux, view: StageView, pane_ids: Iterable[str]) -> None:
    """Bring parked panes onto the stage at its right end, in order (layout follows)."""
    anchor = view.cells[-1].pane_id if view.cells else view.tower.pane_id if view.tower else None
    if anchor is None:
        return
    for pane in pane_ids:
        # -d: the person's active pane stays active; the joined pane's old window goes.
        tmux.run("join-pane", "-d", "-h", "-s", pane, "-t", anchor)
        anchor = pane


def swap(tmux: Tmux, incoming: str, outgoing: str, outgoing_name: str) -> None:
    """Put `incoming` in `outgoing`'s place on stage, and `outgoing` in its window.

    One `swap-pane`: the cell keeps its size and place, so the layout stands,
    and the parked window is renamed after the session it now holds.
    """
    tmux.run("swap-pane", "-d", "-s", incoming, "-t", outgoing)
    tmux.run("rename-window", "-t", outgoing, "--", quote(outgoing_name))


def park(tmux: Tmux, pane_id: str, name: str) -> None:
    """Move a pane off the stage into a window of its own, named after its session.

    Named by `rename-window`, whose argument tmux format-expands (and `quote`
    is made for), not by `break-pane -n`, which tmux 3.3a takes as it is."""
    tmux.run(
        "break-pane", "-d", "-s", pane_id, ";",
        "rename-window", "-t", pane_id, "--", quote(name),
    )  # fmt: skip


def arrange(tmux: Tmux, session_name: str, session_min: int) -> StageView:
    """Lay the stage out (tower left at its width, sessions equal) unless it already is,
    and (re)install the resize hook for its current tower."""
    view = read(tmux, session_name)
    if view.window_id is None:
        return view
    if view.tower is not None and view.cells:
        first = min(view.cells, key=lambda p: p.pane_index)
        if view.tower.pane_index > first.pane_index:
            # Layouts go to panes in index order: the tower must come first.
            tmux.run("swap-pane", "-d", "-s", view.tower.pane_id, "-t", first.pane_id)
            view = read(tmux, session_name)
    if not view.layout_ok(session_min):
        tower = view.tower is not None
        ordered = sorted(
            ([view.tower] if view.tower else []) + list(view.cells), key=lambda p: p.pane_index
        )
        numbers = [int(p.pane_id.lstrip("%")) for p in ordered]
        layout = layout_string(
            view.width, view.height, numbers, session_min=session_min, tower=tower
        )
        if layout is not None:
            with contextlib.suppress(TmuxError):  # a pane went meanwhile: next look fixes it
                tmux.run("select-layout", "-t", view.window_id, layout)
    tower_pane = view.tower.pane_id if view.tower else None
    tmux.run(
        "set-hook", "-w", "-t", view.window_id, "window-resized",
        resize_hook(view.window_id, tower_pane, session_min),
    )  # fmt: skip
    return read(tmux, session_name)


def zoom_tower(tmux: Tmux, view: StageView, zoomed: bool) -> bool:
    """Let the tower fill the stage window (`zoomed`), or give the sessions their
    places back. Whether the window is zoomed now; a stage of the tower alone
    has nothing to zoom."""
    if view.tower is None or not view.cells:
        return False
    if view.zoomed != zoomed:
        tmux.run("resize-pane", "-Z", "-t", view.tower.pane_id)
    return zoomed


def show_tower(tmux: Tmux, view: StageView) -> None:
    """Make the stage window current with the tower's pane active (for the next attach)."""
    if view.window_id is None or view.tower is None:
        return
    tmux.run("select-window", "-t", view.window_id, ";", "select-pane", "-t", view.tower.pane_id)
