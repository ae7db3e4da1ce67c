"""Plain terminal I/O for the interactive sim: line input with timeouts, keys, ANSI.

Input is read from the fd with `select` + `os.read` into our own buffer (never
through Python's buffered stdin), so waiting with a timeout (for the
idle/permission notifications) works the same on a tty and on a pipe, and
lines a test writes ahead of time are consumed strictly in order.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TextIO

DIM, BOLD, RED, GREEN, YELLOW, ORANGE = "2", "1", "31", "32", "33", "38;5;208"


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
        return max(40, min(shutil.get_terminal_size((100, 24)).columns, 200))

    # ------------------------------------------------------------ input
    def poll(self, timeout: float | None) -> bytes | None:
        """New bytes from the fd (b"" at EOF), or None if none came within `timeout`."""
        if self.eof:
            return b""
        try:
            ready, _, _ = select.select([self.fd], [], [], timeout)
        except InterruptedError:  # pragma: no cover - PEP 475 retries for us
            return None
        if not ready:
            return None
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


def box(lines: list[str], width: int) -> list[str]:
    """Lines framed in a rounded box like Claude Code's dialogs, `width` columns wide."""
    inner = width - 4
    out = ["╭" + "─" * (width - 2) + "╮"]
    for line in lines:
        text = line if len(line) <= inner else line[: inner - 1] + "…"
        out.append("│ " + text.ljust(inner) + " │")
    out.append("╰" + "─" * (width - 2) + "╯")
    return out
