"""Interactive mode: what runs in a tmux pane.

It looks enough like Claude Code for podium's screen profiles (prompt `> `,
spinner `✻ Working… (3s · esc to interrupt)`, the permission box with
`Do you want to proceed?`) and fires the same hooks at the same moments.

Like Claude Code it redraws on a resize: the screen and its scrollback are
cleared and the conversation so far (`InteractiveUI.log`, each block rendered
for the new width) is written again, then the live part under it (input box,
spinner or dialog). Everything with a width of its own (the welcome box, rules,
the spinner, dialogs) is drawn to fit the pane, so a narrow pane never wraps it
into broken rows or trails of old spinner lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .script import ToolStep, display_name, env_float, strip_directives
from .term import BOLD, CLEAR, DIM, GREEN, ORANGE, RED, Term, box, cells, clip, clip_left, wrap
from .turn import Interrupted, Session

SPINNER = "·✢✳✶✻✽✻✶✳✢"
CHOICES = (
    "1. Yes",
    "2. Yes, and don't ask again for this command",
    "3. No, and tell Claude what to do differently (esc)",
)


WELCOME = "✻ Welcome to Claude Code!"
QUESTION = "Do you want to proceed?"
# A block of the conversation, rendered for a width (text ending in a newline).
Block = Callable[[int], str]
# Blocks kept for a redraw: the oldest go first, as they scroll away in Claude Code.
LOG_BLOCKS = 500
# Narrower than this, the welcome box gives way to plain lines.
BOX_MIN = 20


class InteractiveUI:
    def __init__(self, session: Session, term: Term) -> None:
        self.session = session
        self.term = term
        # Seconds (before the speed divides them) until the two notifications.
        self.permission_delay = env_float("PODIUM_SIM_PERMISSION_NOTIFY_S", 6.0)
        self.idle_delay = env_float("PODIUM_SIM_IDLE_NOTIFY_S", 60.0)
        self.log: list[Block] = []
        # Draws the live part (from the start of a fresh row) after a redraw of the log.
        self.live: Callable[[], None] | None = None
        self.live_rows = 0  # rows the spinner takes now; the cursor is on the last one
        term.on_resize(self.redraw)

    # ------------------------------------------------------------ the conversation
    def say(self, block: Block | str) -> None:
        """Write `block` and keep it for redraws."""
        render = block if callable(block) else (lambda _width, text=block: text)
        self.log.append(render)
        del self.log[:-LOG_BLOCKS]
        self.term.write(render(self.term.columns()))

    def redraw(self) -> None:
        """After a resize: the whole screen again, at the new width."""
        t = self.term
        width = t.columns()
        t.write(CLEAR + "".join(block(width) for block in self.log))
        self.live_rows = 0
        if self.live is not None:
            self.live()

    # ------------------------------------------------------------ screens
    def banner(self, resumed: bool) -> None:
        s, t = self.session, self.term
        model = f"model: {display_name(s.model)} · podium sim"
        help_text = "/help for help, /status for your current setup"

        def render(columns: int) -> str:
            width = min(columns, max(58, len(s.cwd) + 11, len(help_text) + 6))
            if width < BOX_MIN:  # no room for a frame: the same words, plain
                lines = [WELCOME, model, f"cwd: {s.cwd}"]
                return "".join(t.style(x, ORANGE) + "\n" for x in lines) + "\n"
            inner = width - 4
            lines = [*wrap(WELCOME.split(), inner), ""]
            lines += ["  " + x for x in wrap(help_text.split(), inner - 2)] + [""]
            lines.append(f"  cwd: {clip_left(s.cwd, inner - 7)}")
            lines += ["  " + x for x in wrap(model.split(), inner - 2)]
            return "".join(t.style(x, ORANGE) + "\n" for x in box(lines, width)) + "\n"

        self.say(render)
        if resumed:
            self.say(t.style(f"  Resumed session {s.session_id}", DIM) + "\n\n")

    def prompt(self) -> None:
        """The input area; the statusline's first line sits under it, as in Claude Code."""
        t, status = self.term, self.session.status_text
        typed = t.buf.decode("utf-8", errors="replace") if t.buf and b"\n" not in t.buf else ""
        if t.tty_out:
            self.live = self.prompt
            width = t.columns()
            rule = t.style("─" * width, DIM)
            # One row each, whatever the width: the cursor goes back up by counting them.
            below = f"{rule}\n{clip('  ' + status, width - 1)}" if status else rule
            up = 2 if status else 1
            t.write(f"{rule}\n> {typed}\n{below}\x1b[{up}A\r\x1b[{2 + cells(typed)}C")
        else:
            if status:
                t.write(f"  {status}\n")
            t.write("> ")

    def read_prompt(self, idle_at: float | None) -> str:
        """The next prompt line; fires Notification idle_prompt once if none comes in time."""
        t, notified = self.term, False
        # A line typed ahead while working was never echoed: show it like a typed one.
        queued = b"\n" in t.buf
        while True:
            wait = None if idle_at is None or notified else max(0.0, idle_at - time.monotonic())
            line = t.readline(wait)
            if line is not None:
                break
            notified = True
            self.session.hook(
                "Notification",
                message="Claude is waiting for your input",
                title="Claude Code",
                notification_type="idle_prompt",
            )
        self.live = None
        shown = strip_directives(line)
        if queued or not t.tty_in:
            t.write(shown + "\n")  # no tty echo: show what was "typed"
        elif t.tty_out and shown != line:
            # The tty echoed the line as typed: write it again without the test
            # directives (and wrapped the same way) over those rows.
            rows = max(1, -(-(2 + cells(line)) // t.columns()))
            t.write(f"\x1b[{rows}A\r\x1b[J> {shown}\n")
        if t.tty_out:
            t.write("\r\x1b[J")  # drop the lower rule and statusline
            self.log.append(self._submitted_block(shown))
        return line

    def _submitted_block(self, shown: str) -> Block:
        def render(width: int) -> str:
            return f"{self.term.style('─' * width, DIM)}\n> {shown}\n"

        return render

    def submitted(self, line: str) -> None:
        self.say(f"> {strip_directives(line)}\n")

    # ------------------------------------------------------------ the UI protocol
    def spinner_rows(self, frame: int, width: int) -> list[str]:
        """The spinner line, wrapped between words to fit `width`: "esc to interrupt"
        stays whole on one row, where the screen profile looks for it."""
        t = self.term
        shown = int((time.monotonic() - self.session.turn_started) * self.session.speed)
        glyph = SPINNER[frame % len(SPINNER)]
        hint = "esc to interrupt)" if width > len("esc to interrupt") else "esc to interrupt"
        words = [glyph, "Working…", f"({shown}s", "·", hint]
        rows = wrap(words, width)
        first = rows[0]
        styled = t.style(glyph, ORANGE) + first[len(glyph) :]
        if first.startswith(f"{glyph} Working…"):
            styled = f"{t.style(glyph, ORANGE)} {t.style('Working…', ORANGE)}"
            styled += first[len(glyph) + len(" Working…") :]
        return [styled, *rows[1:]]

    def _spin(self, frame: int) -> None:
        """Draw the spinner over the last one (all its rows)."""
        t = self.term
        up = f"\x1b[{self.live_rows - 1}A" if self.live_rows > 1 else ""
        rows = self.spinner_rows(frame, t.columns())
        t.write(f"\r{up}\x1b[J" + "\n".join(rows))
        self.live_rows = len(rows)

    def working(self, seconds: float) -> None:
        t = self.term
        end = time.monotonic() + seconds
        if not t.tty_out:
            t.write(self.spinner_rows(4, 10_000)[0] + "\n")
        frame = 0
        self.live_rows = 0
        try:
            with t.keys():
                while (left := end - time.monotonic()) > 0:
                    if t.tty_out:
                        self.live = lambda frame=frame: self._spin(frame)
                        t.check_resize()
                        self._spin(frame)
                    frame += 1
                    step = min(0.12, left)
                    if not t.tty_in:
                        time.sleep(step)
                        continue
                    data = t.poll(step)
                    if data is None:
                        continue
                    if not data:  # input closed while working: finish the turn anyway
                        time.sleep(max(0.0, end - time.monotonic()))
                        break
                    if data.startswith(b"\x1b") and data[1:2] not in (b"[", b"O"):
                        raise Interrupted
                    t.buf += data  # typed ahead: becomes the next prompt
        finally:
            if t.tty_out:
                up = f"\x1b[{self.live_rows - 1}A" if self.live_rows > 1 else ""
                t.write(f"\r{up}\x1b[J")
            self.live, self.live_rows = None, 0

    def tool_call(self, step: ToolStep) -> None:
        t = self.term
        self.say(f"{t.style('⏺', GREEN)} {t.style(step.name, BOLD)}({step.label})\n")

    def tool_done(self, step: ToolStep, ok: bool) -> None:
        t = self.term
        if not ok:
            self.say(f"  ⎿  {t.style('No (tell Claude what to do differently)', RED)}\n")
            return
        lines = step.result.splitlines() or [""]
        more = f" … +{len(lines) - 1} lines" if len(lines) > 1 else ""
        self.say(f"  ⎿  {lines[0]}{t.style(more, DIM)}\n")

    def answer(self, text: str) -> None:
        self.say(f"\n⏺ {text}\n\n")

    def limit(self, text: str) -> None:
        t = self.term
        self.say(f"  ⎿  {t.style(text, RED)}\n")
        self.say(t.style("     /upgrade to increase your usage limit.", DIM) + "\n\n")

    def record(self, record: dict) -> None:
        pass  # the transcript is the record; the pane shows the rest

    def permission(self, step: ToolStep) -> int:
        t = self.term
        command = str(step.input.get("command", step.label))
        description = str(step.input.get("description", ""))
        selected = 1
        drawn: list[str] = []

        def rows() -> list[str]:
            width = max(12, min(t.columns(), 72))
            inner = width - 4
            # The question wraps as Claude Code's does (the screen profile reads it whole);
            # each choice keeps one row, so a new selection redraws the last four.
            head = [f"{step.name} command", "", *("  " + x for x in wrap([command], inner - 2))]
            if description:
                head += ["  " + x for x in wrap(description.split(), inner - 2)]
            head += ["", *wrap(QUESTION.split(), inner)]
            marks = ["❯ " if i + 1 == selected else "  " for i in range(len(CHOICES))]
            return box(head + [m + c for m, c in zip(marks, CHOICES, strict=True)], width)

        def draw() -> None:
            drawn[:] = rows()
            t.write("\n" + "\n".join(drawn) + "\n")

        self.live = draw
        draw()
        deadline = time.monotonic() + self.permission_delay / self.session.speed
        notified, choice = False, 0
        with t.keys():
            while not choice:
                wait = None if notified else max(0.0, deadline - time.monotonic())
                if t.tty_in:
                    key = t.take_key(wait)
                    answer = None if key is None else _key_choice(key, selected)
                else:
                    line = t.readline(wait)
                    key = line
                    answer = None if line is None else _line_choice(line, selected)
                if key is None:
                    notified = True
                    self.session.hook(
                        "Notification",
                        message=f"Claude needs your permission to use {step.name}",
                        title="Claude Code",
                        notification_type="permission_prompt",
                    )
                elif answer in ("up", "down"):
                    selected = max(1, min(3, selected + (1 if answer == "down" else -1)))
                    if t.tty_out:  # redraw the choices and the bottom border in place
                        drawn[:] = rows()
                        t.write("\x1b[4A\r" + "\n".join(drawn[-4:]) + "\n")
                elif isinstance(answer, int):
                    choice = answer
            if t.tty_in and key and key.isdigit():
                # "1" then Enter (tmux send-keys) must not leave an empty prompt behind.
                if not t.buf:
                    t.buf += t.poll(0.05) or b""
                if t.buf[:1] in (b"\n", b"\r"):
                    t.buf = t.buf[1:]
        self.live = None
        if t.tty_out:
            t.write(f"\x1b[{len(drawn) + 1}A\r\x1b[J")  # the dialog (and the blank above) closes
        return choice


def _key_choice(key: str, selected: int) -> int | str | None:
    if key in ("1", "2", "3"):
        return int(key)
    if key == "enter":
        return selected
    if key == "esc":
        return 3
    if key in ("up", "down"):
        return key
    return None


def _line_choice(line: str, selected: int) -> int | None:
    text = line.strip().lower()
    if not text:
        return selected
    if text in ("esc", "\x1b", "n", "no"):
        return 3
    if text[0] in "123":
        return int(text[0])
    if text in ("y", "yes"):
        return 1
    return None


def run_interactive(
    session: Session, first_prompt: str | None, resumed: bool, term: Term | None = None
) -> int:
    """The prompt loop; returns the exit code."""
    term = term or Term()
    ui = InteractiveUI(session, term)
    ui.banner(resumed)
    session.start("resume" if resumed else "startup")
    session.refresh_status()
    idle_at: float | None = None
    pending = first_prompt
    try:
        while True:
            if pending:
                line, pending = pending, None
                ui.submitted(line)
            else:
                ui.prompt()
                line = ui.read_prompt(idle_at)
            text = line.strip()
            if not text:
                continue
            if text in ("/exit", "/quit"):
                session.end("prompt_input_exit")
                return 0
            if text == "/clear":
                session.clear()
                ui.say(term.style("  (conversation cleared)", DIM) + "\n")
                continue
            if text == "/help":
                help_text = "  /exit quit · /clear new conversation · [permission] [work=N] [limit]"
                ui.say(term.style(help_text, DIM) + "\n")
                continue
            result = session.run_turn(line, ui)
            if result.status == "interrupted":
                ui.say(f"  ⎿  {term.style('Interrupted by user', RED)}\n\n")
            idle_at = time.monotonic() + ui.idle_delay / session.speed
    except EOFError:
        session.end("other")
        return 0
    except KeyboardInterrupt:
        session.end("other")
        return 0
    finally:
        term.restore()
