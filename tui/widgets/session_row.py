"""One session as a row of the session list: cells first, then styled text.

`row_cells` is plain data (tested without a screen); `row_content` styles it
with podium's theme variables (`$state-waiting`, …), resolved when drawn, so a
theme change recolours the list without rebuilding it.

Cells are measured in terminal cells, not characters (`rich.cells`): a wide
character (CJK, most emoji) takes two, and a row must never outgrow its line.
The last column, DOING, takes what the others leave, and is the first to go
when a pane is narrow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from textual.content import Content

from collectors.durations import duration
from sessions import wire

# GLYPHS: also the help screen's (one glyph per state, the tmux cues' too).
from sessions.glyphs import GLYPHS, glyph
from tui.engine_api import parse_time
from tui.format import cost, since, tokens


@dataclass(frozen=True)
class RowCells:
    glyph: str
    # The session's number: what Alt-N focuses and its pane border shows.
    number: str
    state: str
    state_text: str
    name: str
    agent: str
    # How long it has waited for the person ("" when it does not wait).
    waited: str
    waiting: bool
    tokens: str
    cost: str
    branch: str
    # What the session is doing (`wire.Doing`): its kind ("" for nothing) and text.
    doing_kind: str = ""
    doing: str = ""
    # How long it has been busy ("" when it is not): a column of its own, as a busy
    # session waits for nobody.
    busy: str = ""
    # Beside the tower now (the stage), rather than parked in a window of its own.
    staged: bool = False


def state_text(session: wire.Session, now: datetime) -> str:
    """The state as `podium ls` says it, with what makes it actionable, and how many
    messages wait to be typed in."""
    text = _state_alone(session, now)
    if session.messages_waiting:
        return f"{text} · {messages_text(session.messages_waiting)}"
    return text


def messages_text(count: int) -> str:
    """Messages waiting for a session, in a few cells: "1 msg", "3 msgs"."""
    return f"{count} msg" if count == 1 else f"{count} msgs"


def _state_alone(session: wire.Session, now: datetime) -> str:
    state = session.state
    if state == "exited" and session.exit_code is not None:
        return f"exited ({session.exit_code})"
    if state == "limited":
        resets = parse_time(session.limit_resets_at)
        seen = "" if session.attention else " seen"
        if resets is not None:
            return f"limited{seen} ↻{duration((resets - now).total_seconds())}"
        return f"limited{seen}"
    if session.attention is None and state == "permission":
        return "permission (seen)"
    return state


def row_cells(session: wire.Session, now: datetime, *, staged: bool = False) -> RowCells:
    state = session.state
    item = session.attention
    waited = busy = ""
    if item:
        waited = duration(since(item.opened_at, now))
    elif state == "seen":
        # A seen turn's since is when the turn ended: it has been your move that long.
        waited = duration(since(session.state_since, now))
    elif state == "busy":
        busy = duration(since(session.state_since, now))
    return RowCells(
        glyph=glyph(state),
        number=str(session.number) if session.number is not None else "",
        state=state,
        state_text=state_text(session, now),
        name=session.name,
        agent=session.agent,
        waited=waited,
        waiting=bool(item),
        tokens=tokens(session.tokens_today),
        cost=cost(session.cost_today_usd),
        branch=session.worktree_branch or "-",
        busy=busy,
        staged=staged,
        **_doing(session.doing),
    )


def _doing(doing: wire.Doing | None) -> dict[str, str]:
    if doing is None:
        return {}
    # The engine sends one cleaned line; folding whitespace again keeps a row one
    # line even with an engine of another version.
    text = " ".join(doing.text.split())
    if doing.kind == "prompt":
        text = f"› {text}"  # what the person asked, not what the agent said
    return {"doing_kind": doing.kind, "doing": text}


# DOING is shown only with at least this many cells for it; BRANCH takes at most
# BRANCH_MAX cells, leaving the rest of a wide pane to DOING.
DOING_MIN = 12
BRANCH_MAX = 24
NAME_MAX = 24
# A name is cut ("refac…") before WAITED goes: it still tells sessions apart.
NAME_MIN = 4
# A state text longer than the room for it is cut only down to this.
STATE_MIN = 10
# The on-stage mark, in the row's first cell (its left margin when parked).
STAGED_MARK = "▸"


@dataclass(frozen=True)
class Widths:
    """Column widths for one rendering; 0 hides a column (narrow panes drop them).

    Every row starts with two cells, the on-stage mark and the state's glyph (the
    state, when there is no room for its text). Then, as the width allows, in
    this order: WAITED and the name (cut with "…" down to NAME_MIN), the number,
    BUSY, STATE, AGENT, TODAY, COST, BRANCH and DOING, which takes the rest.
    A row never outgrows `width`.
    """

    name: int
    agent: int
    state: int
    waited: int
    tokens: int
    cost: int
    branch: int
    doing: int = 0
    # 0 when no session has a number (an engine from before numbers) or no room.
    number: int = 0
    busy: int = 0

    @classmethod
    def fit(cls, rows: list[RowCells], width: int) -> Widths:
        def widest(cells: list[str], least: int) -> int:
            return max([least, *(cell_len(c) for c in cells)])

        left = width - 2  # the mark and the glyph
        waited = widest([r.waited for r in rows], 4)
        number = widest([r.number for r in rows], 0)
        name = min(NAME_MAX, widest([r.name for r in rows], 4))

        def take(cells: int, least: int | None = None) -> int:
            """`cells` and the gap before them if they fit (or at least `least`), else 0."""
            nonlocal left
            got = min(cells, left - 1)
            if got < (cells if least is None else least) or got <= 0:
                return 0
            left -= got + 1
            return got

        waited = waited if left - 1 - waited >= 1 + NAME_MIN else 0
        left -= waited + 1 if waited else 0
        number = number if number and left - 1 - number >= 1 + NAME_MIN else 0
        left -= number + 1 if number else 0
        name = take(name, least=min(name, NAME_MIN)) or take(name, least=1)
        busy = take(widest([r.busy for r in rows], 4)) if any(r.busy for r in rows) else 0
        state_w = widest([r.state_text for r in rows], 5)
        state = take(state_w, least=min(state_w, STATE_MIN))
        agent = take(widest([r.agent for r in rows], 5))
        tok = take(6)
        money = take(widest([r.cost for r in rows], 4)) if tok else 0
        branch = take(min(BRANCH_MAX, widest([r.branch for r in rows], 6)), least=6)
        doing = take(left - 1, least=DOING_MIN) if any(r.doing for r in rows) else 0
        return cls(name, agent, state, waited, tok, money, branch, doing, number, busy)


def _cell(text: str, width: int, right: bool = False) -> str:
    """`text` in exactly `width` terminal cells: cut with "…", or padded."""
    if cell_len(text) > width:
        text = set_cell_size(text, max(0, width - 1)) + "…" if width else ""
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def _heading(full: str, short: str, width: int) -> str:
    return full if cell_len(full) <= width else short


def header_content(widths: Widths) -> Content:
    parts = ["  "]
    if widths.number:
        parts += [" ", _cell("#", widths.number, right=True)]
    parts += [" ", _cell("NAME", widths.name)]
    if widths.agent:
        parts += [" ", _cell("AGENT", widths.agent)]
    if widths.state:
        parts += [" ", _cell("STATE", widths.state)]
    if widths.waited:
        parts += [" ", _cell(_heading("WAITED", "WAIT", widths.waited), widths.waited, right=True)]
    if widths.busy:
        parts += [" ", _cell("BUSY", widths.busy, right=True)]
    if widths.tokens:
        parts += [" ", _cell("TODAY", widths.tokens, right=True)]
    if widths.cost:
        parts += [" ", _cell("COST", widths.cost, right=True)]
    if widths.branch:
        parts += [" ", _cell("BRANCH", widths.branch)]
    if widths.doing:
        parts += [" ", "DOING"]
    return Content.styled("".join(parts), "bold $text-muted")


def row_content(row: RowCells, widths: Widths) -> Content:
    colour = f"$state-{row.state}" if row.state in GLYPHS else "$foreground"
    mark = (STAGED_MARK, "bold $accent") if row.staged else " "
    parts: list[str | tuple[str, str]] = [mark, (row.glyph, f"bold {colour}")]
    if widths.number:
        parts += [" ", (_cell(row.number, widths.number, right=True), "$text-muted")]
    parts += [" ", (_cell(row.name, widths.name), "bold" if row.waiting else "")]
    if widths.agent:
        parts += [" ", (_cell(row.agent, widths.agent), "$text-muted")]
    if widths.state:
        parts += [" ", (_cell(row.state_text, widths.state), colour)]
    if widths.waited:
        style = f"bold {colour}" if row.waiting else "dim"
        parts += [" ", (_cell(row.waited, widths.waited, right=True), style)]
    if widths.busy:
        parts += [" ", (_cell(row.busy, widths.busy, right=True), "dim")]
    if widths.tokens:
        parts += [" ", (_cell(row.tokens, widths.tokens, right=True), "$text-muted")]
    if widths.cost:
        parts += [" ", (_cell(row.cost, widths.cost, right=True), "$text-muted")]
    if widths.branch:
        parts += [" ", (_cell(row.branch, widths.branch), "$text-muted")]
    if widths.doing and row.doing:
        parts += [" ", *_doing_parts(row, widths.doing)]
    return Content.assemble(*parts)


def _doing_parts(row: RowCells, width: int) -> list[tuple[str, str]]:
    """DOING, cut to its cells: a tool's name stands out from its subject, a line the
    agent said is muted, the person's prompt more so."""
    text = _cell(row.doing, width).rstrip()
    if row.doing_kind == "tool":
        name, sep, rest = text.partition(": ")
        return [(name, "bold"), (sep + rest, "")]
    return [(text, "italic $text-muted" if row.doing_kind == "prompt" else "$text-muted")]
