"""Interactive mode: what runs in a tmux pane.

It looks enough like Claude Code for podium's screen profiles (prompt `> `,
spinner `✻ Working… (3s · esc to interrupt)`, the permission box with
`Do you want to proceed?`) and fires the same hooks at the same moments.
"""

from __future__ import annotations

import time

from .script import ToolStep, display_name, env_float
from .term import BOLD, DIM, GREEN, ORANGE, RED, Term, box
from .turn import Interrupted, Session

SPINNER = "·✢✳✶✻✽✻✶✳✢"
CHOICES = (
    "1. Yes",
    "2. Yes, and don't ask again for this command",
    "3. No, and tell Claude what to do differently (esc)",
)


class InteractiveUI:
    def __init__(self, session: Session, term: Term) -> None:
        self.session = session
        self.term = term
        # Seconds (before the speed divides them) until the two notifications.
        self.permission_delay = env_float("PODIUM_SIM_PERMISSION_NOTIFY_S", 6.0)
        self.idle_delay = env_float("PODIUM_SIM_IDLE_NOTIFY_S", 60.0)

    # ------------------------------------------------------------ screens
    def banner(self, resumed: bool) -> None:
        s, t = self.session, self.term
        lines = [
            "✻ Welcome to Claude Code!",
            "",
            "  /help for help, /status for your current setup",
            "",
            f"  cwd: {s.cwd}",
            f"  model: {display_name(s.model)} · podium sim",
        ]
        width = min(t.columns(), max(58, max(len(x) for x in lines) + 4))
        t.write("\n".join(t.style(x, ORANGE) for x in box(lines, width)) + "\n")
        if resumed:
            t.write(t.style(f"  Resumed session {s.session_id}", DIM) + "\n")
        t.write("\n")

    def prompt(self) -> None:
        """The input area; the statusline's first line sits under it, as in Claude Code."""
        t, status = self.term, self.session.status_text
        typed = t.buf.decode("utf-8", errors="replace") if t.buf and b"\n" not in t.buf else ""
        if t.tty_out:
            rule = t.style("─" * t.columns(), DIM)
            below = f"{rule}\n  {status}" if status else rule
            up = 2 if status else 1
            t.write(f"{rule}\n> {typed}\n{below}\x1b[{up}A\r\x1b[{2 + len(typed)}C")
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
        if queued or not t.tty_in:
            t.write(line + "\n")  # no tty echo: show what was "typed"
        if t.tty_out:
            t.write("\r\x1b[J")  # drop the lower rule and statusline
        return line

    def submitted(self, line: str) -> None:
        self.term.write(f"> {line}\n")

    # ------------------------------------------------------------ the UI protocol
    def working(self, seconds: float) -> None:
        t = self.term
        end = time.monotonic() + seconds
        speed, begun = self.session.speed, self.session.turn_started

        def line(frame: int) -> str:
            shown = int((time.monotonic() - begun) * speed)
            glyph = t.style(SPINNER[frame % len(SPINNER)], ORANGE)
            return f"{glyph} {t.style('Working…', ORANGE)} ({shown}s · esc to interrupt)"

        if not t.tty_out:
            t.write(line(4) + "\n")
        frame = 0
        try:
            with t.keys():
                while (left := end - time.monotonic()) > 0:
                    if t.tty_out:
                        t.write("\r\x1b[2K" + line(frame))
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
                t.write("\r\x1b[2K")

    def tool_call(self, step: ToolStep) -> None:
        t = self.term
        t.write(f"{t.style('⏺', GREEN)} {t.style(step.name, BOLD)}({step.label})\n")

    def tool_done(self, step: ToolStep, ok: bool) -> None:
        t = self.term
        if not ok:
            t.write(f"  ⎿  {t.style('No (tell Claude what to do differently)', RED)}\n")
            return
        lines = step.result.splitlines() or [""]
        more = f" … +{len(lines) - 1} lines" if len(lines) > 1 else ""
        t.write(f"  ⎿  {lines[0]}{t.style(more, DIM)}\n")

    def answer(self, text: str) -> None:
        self.term.write(f"\n⏺ {text}\n\n")

    def limit(self, text: str) -> None:
        t = self.term
        t.write(f"  ⎿  {t.style(text, RED)}\n")
        t.write(t.style("     /upgrade to increase your usage limit.", DIM) + "\n\n")

    def record(self, record: dict) -> None:
        pass  # the transcript is the record; the pane shows the rest

    def permission(self, step: ToolStep) -> int:
        t = self.term
        command = str(step.input.get("command", step.label))
        description = str(step.input.get("description", ""))
        head = [f"{step.name} command", "", f"  {command}"]
        if description:
            head.append(f"  {description}")
        head += ["", "Do you want to proceed?"]
        width = min(t.columns(), 72)
        selected = 1

        def rows() -> list[str]:
            marks = ["❯ " if i + 1 == selected else "  " for i in range(len(CHOICES))]
            return box(head + [m + c for m, c in zip(marks, CHOICES, strict=True)], width)

        drawn = rows()
        t.write("\n" + "\n".join(drawn) + "\n")
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
                        t.write("\x1b[4A\r" + "\n".join(rows()[-4:]) + "\n")
                elif isinstance(answer, int):
                    choice = answer
            if t.tty_in and key and key.isdigit():
                # "1" then Enter (tmux send-keys) must not leave an empty prompt behind.
                if not t.buf:
                    t.buf += t.poll(0.05) or b""
                if t.buf[:1] in (b"\n", b"\r"):
                    t.buf = t.buf[1:]
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
                term.write(term.style("  (conversation cleared)", DIM) + "\n")
                continue
            if text == "/help":
                help_text = "  /exit quit · /clear new conversation · [permission] [work=N] [limit]"
                term.write(term.style(help_text, DIM) + "\n")
                continue
            result = session.run_turn(line, ui)
            if result.status == "interrupted":
                term.write(f"  ⎿  {term.style('Interrupted by user', RED)}\n\n")
            idle_at = time.monotonic() + ui.idle_delay / session.speed
    except EOFError:
        session.end("other")
        return 0
    except KeyboardInterrupt:
        session.end("other")
        return 0
    finally:
        term.restore()
