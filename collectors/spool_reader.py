"""The engine's side of the spool: new records from the hook and statusline files."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from collectors.tail import CursorStore, read_lines

# Spool files of past days are deleted once read to the end and this old.
KEEP_SECONDS = 2 * 86400


@dataclass
class SpoolStats:
    lines: int = 0
    bad_lines: int = 0


class SpoolReader:
    def __init__(self, spool_dir: Path, cursors: CursorStore) -> None:
        self.dir = spool_dir
        self.cursors = cursors
        self.stats = SpoolStats()

    def files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("*.jsonl"))

    def read_new(self, limit: int | None = None) -> Iterator[dict]:
        """Every complete record appended since the last call (cursors saved per file);
        at most `limit`, with the cursor saved after the last one taken."""
        taken = 0
        for path in self.files():
            if limit is not None and taken >= limit:
                return
            cursor = self.cursors.get(path)
            before = cursor.offset
            for raw in read_lines(path, cursor):
                if not raw.strip():
                    continue
                self.stats.lines += 1
                try:
                    record = json.loads(raw.decode("utf-8", errors="replace"))
                except ValueError:
                    self.stats.bad_lines += 1
                    continue
                if not isinstance(record, dict):
                    self.stats.bad_lines += 1
                    continue
                taken += 1
                yield record
                if limit is not None and taken >= limit:
                    break  # the cursor is right after this line
            if cursor.offset != before or cursor.size == 0:
                self.cursors.put(cursor)

    def prune(self, now: float | None = None) -> None:
        """Delete spool files that are fully read and older than KEEP_SECONDS."""
        now = now or time.time()
        for path in self.files():
            cursor = self.cursors.get(path)
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if cursor.offset >= st.st_size and now - st.st_mtime > KEEP_SECONDS:
                path.unlink(missing_ok=True)
                self.cursors.forget(path)
