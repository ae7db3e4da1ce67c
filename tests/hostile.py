"""Input that someone else wrote, built the way an attacker would: shared by the tests
of every parser that reads it (transcripts, hook payloads, spool lines)."""

from __future__ import annotations


def deep_json(depth: int, kind: str = "object") -> bytes:
    """A valid JSON value nested `depth` levels: an array (`[[[…]]]`) or objects."""
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth
