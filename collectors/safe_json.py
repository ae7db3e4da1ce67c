"""Decoding JSON that someone else wrote, without ever raising.

Hook payloads, spool lines, transcripts, background runs' stream-json and
Claude Code's own files are written by other programs (and by agents working in
other people's repos). Any of them can hold a line nested 100,000 levels deep
(RecursionError in every decoder), one too big to decode (MemoryError), invalid
UTF-8 or plain garbage. `loads` turns all of those into a reason, so a bad
input is counted and described, never the end of whatever reads it.

`reason` names the failure of any decoder (msgspec's too), for callers that
decode with their own. Stdlib only: the hook command imports it.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

# Deeper values are refused even when the decoder managed them: the decoders and
# `json.dumps` recurse once per level, so a value that decoded in a shallow stack
# could fail again wherever it is handled next. Claude Code's payloads are a few
# levels deep.
MAX_DEPTH = 200


def reason(exc: BaseException) -> str:
    """Why decoding failed, in a few words (for counts and logs)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, MemoryError):
        return "too big to decode"
    if isinstance(exc, UnicodeError):
        return "invalid UTF-8"
    if isinstance(exc, ValueError):
        return f"not JSON ({str(exc)[:200]})"
    return f"cannot decode ({type(exc).__name__})"


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests lists and dicts deeper than `limit` (`{}` is depth 1).
    Iterative: it must not recurse itself."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate (`"\\ud800"` decodes to one: JavaScript writes
    them) replaced by U+FFFD: such a string cannot be encoded as UTF-8, so DuckDB and
    any file write would refuse it. Returns `value` itself when there is none."""
    text = json.dumps(value, ensure_ascii=False)
    if not _SURROGATE.search(text):
        return value
    return json.loads(_SURROGATE.sub("\ufffd", text))


def loads(
    data: str | bytes | bytearray | memoryview, max_depth: int = MAX_DEPTH
) -> tuple[Any, str | None]:
    """`(value, None)`, or `(None, reason)` for anything that is not JSON nested at
    most `max_depth` deep. Bytes must be UTF-8 (json's own guessing of UTF-16/32 is
    not wanted for lines of a UTF-8 file)."""
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        value = json.loads(text)
        if isinstance(value, (dict, list)) and too_deep(value, max_depth):
            return None, f"nested deeper than {max_depth} levels"
    except Exception as exc:  # every decoding failure is a reason, none escapes
        return None, reason(exc)
    return value, None


# `.claude.json` keeps per-project history and can reach megabytes; no JSON file podium
# reads is meant to be larger.
MAX_FILE_BYTES = 64 << 20


def load_file(
    path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES
) -> tuple[Any, str | None]:
    """`loads` of a whole file, which must be a regular file (a FIFO or device put in
    its place would block the reader forever) of at most `max_bytes`."""
    # Only for files: the hook commands import this module and stay light.
    from collectors.tail import open_regular

    try:
        with open_regular(path) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if len(data) > max_bytes:
        return None, f"over {max_bytes} bytes"
    return loads(data)
