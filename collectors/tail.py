"""Reading appended lines from files by byte offset, across restarts.

Shared by the spool reader and transcript ingest. A cursor is (inode, size,
offset, fingerprint); a file whose inode changed or that shrank below the
offset was replaced or truncated, and is read again from the start. The
fingerprint, when a reader keeps one, is a digest of the bytes just before the
offset: it catches a file rewritten in place that did not shrink. Only complete
lines are consumed: a torn last line (a write in progress) is left for next
time. Files are streamed in chunks, never loaded whole, and a line longer
than a cap is skipped (and reported), never held.

Only regular files are read: a FIFO, socket or device (or a symlink to one)
named like a log would block `open` or `read` forever. `check_cursor` refuses
them after `stat`, and `open_regular` opens with `O_NONBLOCK` and checks again
with `fstat`, so a file swapped in between cannot block either.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # the ingest helper process imports this module: keep it light
    import duckdb

CHUNK = 1 << 20
# Longest line `read_lines` returns; longer ones are skipped up to their newline.
MAX_LINE = 64 << 20
# How many bytes before the offset the fingerprint covers: enough to hold a
# record's unique ids and time, so a rewrite never matches by chance.
FINGERPRINT_BYTES = 256


@dataclass
class Cursor:
    path: str
    inode: int = 0
    size: int = 0
    offset: int = 0
    fingerprint: str = ""


class NotRegularFile(OSError):
    """A FIFO, socket, device or directory where a regular file was expected."""


def _refuse(path: Path | str, mode: int) -> NotRegularFile:
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a directory"
        if stat.S_ISDIR(mode)
        else "not a regular file"
    )
    return NotRegularFile(0, f"{kind}, skipped", str(path))


def open_regular(path: Path | str) -> BinaryIO:
    """Open a regular file for reading (unbuffered), never blocking on anything else:
    `NotRegularFile` for a FIFO, socket or device."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(path, mode)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def fingerprint(path: Path | str, offset: int) -> str:
    """Digest of the bytes before `offset` ("" at 0 or when the file cannot be read)."""
    if offset <= 0:
        return ""
    start = max(0, offset - FINGERPRINT_BYTES)
    try:
        with open_regular(path) as fh:
            fh.seek(start)
            data = fh.read(offset - start)
    except OSError:
        return ""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def check_cursor(path: Path | str, cursor: Cursor) -> os.stat_result | None:
    """Stat `path` and move `cursor` back to 0 if the file was replaced, truncated or
    rewritten; None when the file is gone. Does not touch `cursor.size`.
    Raises `NotRegularFile` for a FIFO, socket or device (or a symlink to one)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, st.st_mode)
    if st.st_ino != cursor.inode or st.st_size < cursor.offset:
        cursor.inode, cursor.offset, cursor.fingerprint = st.st_ino, 0, ""
    elif (
        cursor.fingerprint
        and st.st_size != cursor.size
        and fingerprint(path, cursor.offset) != cursor.fingerprint
    ):
        cursor.offset, cursor.fingerprint = 0, ""
    return st


def read_lines(
    path: Path,
    cursor: Cursor,
    max_line: int = MAX_LINE,
    on_skip: Callable[[int, int], None] | None = None,
) -> Iterator[bytes]:
    """Yield each complete new line (without its newline); advances `cursor.offset`.

    The cursor is updated as lines are yielded, so a consumer that stops early
    resumes exactly after the last line it took. A line longer than `max_line`
    is not kept: `on_skip(offset, length)` is told and the cursor moves past it
    (past the end of the file, if it has no newline yet: what follows up to its
    newline is another, short, line). Memory stays within `max_line` + CHUNK.
    Raises `NotRegularFile` for a FIFO, socket or device.
    """
    st = check_cursor(path, cursor)
    if st is None:
        return
    cursor.size = st.st_size
    if st.st_size == cursor.offset:
        return
    with open_regular(path) as fh:
        fh.seek(cursor.offset)
        pending = bytearray()  # the start of an unfinished line
        skipped = 0  # bytes of an over-long line dropped so far
        while chunk := fh.read(CHUNK):
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                length = skipped + len(pending) + end - start
                at = cursor.offset
                cursor.offset += length + 1
                if skipped or length > max_line:
                    line = None
                else:
                    line = bytes(pending) + chunk[start:end] if pending else chunk[start:end]
                skipped = 0
                pending.clear()
                start = end + 1
                if line is None:
                    if on_skip is not None:
                        on_skip(at, length)
                    continue
                yield line
            rest = len(chunk) - start
            if skipped or len(pending) + rest > max_line:
                skipped += len(pending) + rest
                pending.clear()
            else:
                pending += chunk[start:]
        if skipped:
            at = cursor.offset
            cursor.offset += skipped
            if on_skip is not None:
                on_skip(at, skipped)


_State = tuple[int, int, int, str]  # inode, size, offset, fingerprint


def _state(cursor: Cursor) -> _State:
    return (cursor.inode, cursor.size, cursor.offset, cursor.fingerprint)


class CursorStore:
    """Cursors kept in the `file_offsets` table, read through an in-memory copy.

    Files are polled often (every spool event and sweep) and a DuckDB lookup
    costs milliseconds: reads come from memory, each change is written through.
    One store per connection, used from one thread. (The spool's store and the
    transcript ingest's each write their own files' rows.)
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self._known: dict[str, _State] = {}
        self.reload()

    def reload(self) -> None:
        """Read the table again: after a rolled-back transaction, memory is ahead of it."""
        rows = self.conn.execute(
            "SELECT path, inode, size, offset_, fingerprint FROM file_offsets"
        ).fetchall()
        self._known = {
            str(row[0]): (int(row[1]), int(row[2]), int(row[3]), row[4] or "") for row in rows
        }

    def get(self, path: Path) -> Cursor:
        known = self._known.get(str(path))
        if known is None:
            return Cursor(str(path))
        return Cursor(str(path), *known)

    def under(self, folder: Path | str) -> dict[str, Cursor]:
        """Every cursor of a file below `folder`."""
        prefix = os.path.join(str(folder), "")
        return {p: Cursor(p, *k) for p, k in self._known.items() if p.startswith(prefix)}

    def put(self, cursor: Cursor) -> None:
        self.put_many([cursor])

    def put_many(self, cursors: list[Cursor]) -> None:
        """Save the changed ones in one statement (DuckDB's executemany runs one
        statement per row: thousands of transcripts would take seconds)."""
        changed = [c for c in cursors if self._known.get(c.path) != _state(c)]
        if not changed:
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO file_offsets (path, inode, size, offset_, updated, "
            "fingerprint) SELECT unnest(?::VARCHAR[]), unnest(?::BIGINT[]), "
            "unnest(?::BIGINT[]), unnest(?::BIGINT[]), ?::TIMESTAMPTZ, unnest(?::VARCHAR[])",
            [
                [c.path for c in changed],
                [c.inode for c in changed],
                [c.size for c in changed],
                [c.offset for c in changed],
                datetime.now(UTC),
                [c.fingerprint for c in changed],
            ],
        )
        for c in changed:
            self._known[c.path] = _state(c)

    def forget(self, path: Path | str) -> None:
        self.forget_many([str(path)])

    def forget_many(self, paths: list[str]) -> None:
        if not paths:
            return
        self.conn.execute(
            "DELETE FROM file_offsets WHERE path IN (SELECT unnest(?::VARCHAR[]))", [paths]
        )
        for path in paths:
            self._known.pop(path, None)
