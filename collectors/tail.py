"""Reading appended lines from files by byte offset, across restarts.

Shared by the spool reader and transcript ingest. A cursor is (inode, size,
offset); a file whose inode changed or that shrank below the offset was
replaced or truncated, and is read again from the start. Only complete lines
are consumed: a torn last line (a write in progress) is left for next time.
Files are streamed in chunks, never loaded whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

CHUNK = 1 << 20


@dataclass
class Cursor:
    path: str
    inode: int = 0
    size: int = 0
    offset: int = 0


def read_lines(path: Path, cursor: Cursor) -> Iterator[bytes]:
    """Yield each complete new line (without its newline); advances `cursor.offset`.

    The cursor is updated as lines are yielded, so a consumer that stops early
    resumes exactly after the last line it took.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if st.st_ino != cursor.inode or st.st_size < cursor.offset:
        cursor.inode, cursor.offset = st.st_ino, 0
    cursor.size = st.st_size
    if st.st_size == cursor.offset:
        return
    with open(path, "rb") as fh:
        fh.seek(cursor.offset)
        pending = b""
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            data = pending + chunk
            start = 0
            while True:
                end = data.find(b"\n", start)
                if end < 0:
                    break
                line = data[start:end]
                cursor.offset += end - start + 1
                start = end + 1
                yield line
            pending = data[start:]


class CursorStore:
    """Cursors kept in the `file_offsets` table, read through an in-memory copy.

    Files are polled often (every spool event and sweep) and a DuckDB lookup
    costs milliseconds: reads come from memory, each change is written through.
    One store per connection, used from one thread.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        rows = conn.execute("SELECT path, inode, size, offset_ FROM file_offsets").fetchall()
        self._known: dict[str, tuple[int, int, int]] = {
            str(row[0]): (int(row[1]), int(row[2]), int(row[3])) for row in rows
        }

    def get(self, path: Path) -> Cursor:
        known = self._known.get(str(path))
        if known is None:
            return Cursor(str(path))
        return Cursor(str(path), *known)

    def put(self, cursor: Cursor) -> None:
        state = (cursor.inode, cursor.size, cursor.offset)
        if self._known.get(cursor.path) == state:
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO file_offsets (path, inode, size, offset_, updated) "
            "VALUES (?, ?, ?, ?, ?)",
            [cursor.path, cursor.inode, cursor.size, cursor.offset, datetime.now(UTC)],
        )
        self._known[cursor.path] = state

    def forget(self, path: Path) -> None:
        self.conn.execute("DELETE FROM file_offsets WHERE path = ?", [str(path)])
        self._known.pop(str(path), None)
