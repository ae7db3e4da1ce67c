"""The engine's side of the spool: new records from the hook and statusline files.

Nothing in the spool dir can stop or block the engine: a line that is not a
JSON object, is nested too deeply, is invalid UTF-8 or is longer than
`collectors.spool.MAX_LINE_BYTES` is counted in `bad_lines`, described with its
byte offset, and passed over; a `*.jsonl` that is not a regular file (a FIFO, a
socket, a device) or cannot be opened is skipped and reported.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from collectors import safe_json
from collectors.spool import MAX_DEPTH, MAX_LINE_BYTES
from collectors.tail import CursorStore, read_lines

log = logging.getLogger("podium.spool")

# Spool files of past days are deleted once read to the end and this old.
KEEP_SECONDS = 2 * 86400
# The latest problems kept for `engine status` (the counts stay exact).
MAX_PROBLEMS = 20


@dataclass
class SpoolStats:
    lines: int = 0
    bad_lines: int = 0
    skipped_files: int = 0
    problems: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_PROBLEMS))


class SpoolReader:
    def __init__(self, spool_dir: Path, cursors: CursorStore) -> None:
        self.dir = spool_dir
        self.cursors = cursors
        self.stats = SpoolStats()
        self._refused: set[str] = set()  # files reported as unreadable (said once each)

    def files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("*.jsonl"))

    def _bad(self, path: Path, offset: int, why: str) -> None:
        self.stats.bad_lines += 1
        text = f"{path.name} at byte {offset}: {why}"
        self.stats.problems.append(text)
        # The first few and then every 100th: a misbehaving writer must not fill the log.
        if self.stats.bad_lines <= 5 or self.stats.bad_lines % 100 == 0:
            log.warning("bad spool line: %s (#%d)", text, self.stats.bad_lines)

    def read_new(self, limit: int | None = None) -> Iterator[dict]:
        """Every complete record appended since the last call (cursors saved per file);
        at most `limit`, with the cursor saved after the last one taken."""
        taken = 0
        for path in self.files():
            if limit is not None and taken >= limit:
                return
            cursor = self.cursors.get(path)
            before = cursor.offset

            def too_long(offset: int, length: int, path: Path = path) -> None:
                self.stats.lines += 1
                self._bad(path, offset, f"line of {length} bytes, over {MAX_LINE_BYTES}")

            try:
                for raw in read_lines(path, cursor, MAX_LINE_BYTES, too_long):
                    if not raw.strip():
                        continue
                    self.stats.lines += 1
                    # The payload sits one level below the record.
                    record, why = safe_json.loads(raw, MAX_DEPTH + 1)
                    if why is None and not isinstance(record, dict):
                        why = "not a JSON object"
                    if why is not None:
                        self._bad(path, cursor.offset - len(raw) - 1, why)
                        continue
                    if b"\\ud" in raw or b"\\uD" in raw:  # maybe a lone surrogate
                        record = safe_json.without_lone_surrogates(record)
                    taken += 1
                    yield record
                    if limit is not None and taken >= limit:
                        break  # the cursor is right after this line
            except OSError as exc:  # a FIFO or socket named *.jsonl, a file we may not read
                if str(path) not in self._refused:
                    self._refused.add(str(path))
                    self.stats.skipped_files += 1
                    text = f"{path.name}: {exc.strerror or exc}"
                    self.stats.problems.append(text)
                    log.warning("spool file skipped: %s", text)
                continue
            self._refused.discard(str(path))
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
