"""Plain terminal I/O for the interactive sim: line input with timeouts, keys, ANSI.

Input is read from the fd with `select` + `os.read` into our own buffer (never
through Python's buffered stdin), so waiting with a timeout (for the
idle/permission notifications) works the same on a tty and on a pipe, and
lines a test writes ahead of time are consumed strictly in order.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import sys
import termios
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TextIO

DIM, BOLD, RED, GREEN, YELLOW, ORANGE = "2", "1", "31", "32", "33", "38;5;208"
# Clear the screen and its scrollback, cursor home: what a full redraw starts with.
CLEAR = "\x1b[2J\x1b[3J\x1b[H"
_CSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class Term:
    def __init__(self, fd: int = 0, out: TextIO | None = None) -> None:
        self.fd = fd
        self.out = out or sys.stdout
        self.tty_in = os.isatty(fd)
        self.tty_out = self.out.isatty()
        self.color = self.tty_out and "NO_COLOR" not in os.environ
        self.buf = b""
        self.eof = False
        self._saved: list | None = None
        # Resizes: SIGWINCH sets the flag and, through the wakeup fd, wakes a select.
        self._resized = False
        self._on_resize: Callable[[], None] | None = None
        self._wake: int | None = None

    # ------------------------------------------------------------ output
    def write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody is reading any more; keep going until input ends

    def style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def columns(self) -> int:
        """The pane's width now (a pipe: $COLUMNS or 100): everything drawn fits in it.
        A terminal is asked first: a COLUMNS inherited from whoever started tmux is stale."""
        if self.tty_out:
            with suppress(OSError, ValueError):
                return max(1, os.get_terminal_size(self.out.fileno()).columns)
        return max(1, shutil.get_terminal_size((100, 24)).columns)

    # ------------------------------------------------------------ resizes
    def on_resize(self, redraw: Callable[[], None]) -> None:
        """Call `redraw` after each SIGWINCH, from the input loop (never inside the signal
        handler, which may land in the middle of a write)."""
        if not self.tty_out:
            return
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        try:
            signal.set_wakeup_fd(write, warn_on_full_buffer=False)
            signal.signal(signal.SIGWINCH, self._winch)
        except ValueError:  # not the main thread (a test): no redraws
            os.close(read)
            os.close(write)
            return
        self._wake = read
        self._on_resize = redraw

    def _winch(self, _signum: int, _frame: FrameType | None) -> None:
        self._resized = True

    def check_resize(self) -> None:
        """Redraw if the terminal was resized since the last look."""
        if self._wake is not None:
            with suppress(BlockingIOError, InterruptedError):
                os.read(self._wake, 512)
        if self._resized and self._on_resize is not None:
            self._resized = False
            self._on_resize()

    # ------------------------------------------------------------ input
    def poll(self, timeout: float | None) -> bytes | None:
        """New bytes from the fd (b"" at EOF), or None if none came within `timeout`."""
        if self.eof:
            return b""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.check_resize()
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            watched = [self.fd] if self._wake is None else [self.fd, self._wake]
            try:
                ready, _, _ = select.select(watched, [], [], left)
            except InterruptedError:  # pragma: no cover - PEP 475 retries for us
                return None
            if self.fd in ready:
                break
            if not ready:
                return None
            # Only the wakeup fd: a signal came (a resize, say); wait on.
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            data = b""
        if not data:
            self.eof = True
        return data

    def readline(self, timeout: float | None = None) -> str | None:
        """One line without its newline; None on timeout; EOFError when input ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if b"\n" in self.buf:
                line, _, self.buf = self.buf.partition(b"\n")
                return line.decode("utf-8", errors="replace").rstrip("\r")
            if self.eof:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line.decode("utf-8", errors="replace").rstrip("\r")
                raise EOFError
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            data = self.poll(left)
            if data is None:
                return None
            self.buf += data

    @contextmanager
    def keys(self) -> Iterator[None]:
        """Key-at-a-time input without echo (a tty only; a pipe stays line-based)."""
        if not self.tty_in:
            yield
            return
        try:
            saved = termios.tcgetattr(self.fd)
        except termios.error:
            yield
            return
        raw = termios.tcgetattr(self.fd)
        raw[3] &= ~(termios.ECHO | termios.ICANON)
        raw[6][termios.VMIN], raw[6][termios.VTIME] = 1, 0
        self._saved = saved
        termios.tcsetattr(self.fd, termios.TCSANOW, raw)
        try:
            yield
        finally:
            self.restore()

    def restore(self) -> None:
        if self._saved is not None:
            with suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSANOW, self._saved)
            self._saved = None

    def take_key(self, timeout: float | None) -> str | None:
        """One key in key mode: a character, "esc", "up", "down", "enter"; None on timeout."""
        if not self.buf:
            data = self.poll(timeout)
            if data is None:
                return None
            if not data:
                raise EOFError
            self.buf += data
        if self.buf.startswith(b"\x1b"):
            if len(self.buf) == 1:  # a lone ESC, or the start of an arrow key
                more = self.poll(0.03)
                self.buf += more or b""
            for seq, name in ((b"\x1b[A", "up"), (b"\x1bOA", "up"), (b"\x1b[B", "down"),
                              (b"\x1bOB", "down")):  # fmt: skip
                if self.buf.startswith(seq):
                    self.buf = self.buf[len(seq) :]
                    return name
            if self.buf[1:2] in (b"[", b"O"):  # some other escape sequence: drop it
                self.buf = self.buf[3:]
                return ""
            self.buf = self.buf[1:]
            return "esc"
        char = self.buf[:1]
        self.buf = self.buf[1:]
        if char in (b"\r", b"\n"):
            return "enter"
        return char.decode("latin-1")


def cells(text: str) -> int:
    """Columns `text` takes on a terminal (escape sequences take none, wide characters two)."""
    plain = _CSI.sub("", text)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in plain
    )


def clip(text: str, width: int) -> str:
    """`text` cut to `width` columns with "…" (escape sequences dropped when it is cut)."""
    if cells(text) <= width:
        return text
    out, used = "", 0
    for char in _CSI.sub("", text):
        size = cells(char)
        if used + size > width - 1:
            break
        out += char
        used += size
    return out + "…" if width > 0 else ""


def clip_left(text: str, width: int) -> str:
    """`text` cut from the left to `width` columns: "…/the/end" (paths keep their end)."""
    if cells(text) <= width:
        return text
    return "…" + clip(text[::-1], width)[:-1][::-1] if width > 1 else clip(text, width)


def wrap(words: list[str], width: int) -> list[str]:
    """`words` joined by spaces into rows of at most `width` columns; a word never splits
    unless it is wider than a row alone (then it is cut)."""
    rows: list[str] = []
    row = ""
    for word in words:
        joined = f"{row} {word}" if row else word
        if cells(joined) <= width:
            row = joined
            continue
        if row:
            rows.append(row)
        row = clip(word, width)
    return [*rows, row]


def box(lines: list[str], width: int) -> list[str]:
    """Lines framed in a rounded box like Claude Code's dialogs, `width` columns wide.
    A line too long for it is cut with "…": every row is exactly `width` columns."""
    inner = width - 4
    out = ["╭" + "─" * (width - 2) + "╮"]
    for line in lines:
        text = clip(line, inner)
        out.append("│ " + text + " " * (inner - cells(text)) + " │")
    out.append("╰" + "─" * (width - 2) + "╯")
    return out
