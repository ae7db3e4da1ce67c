"""Reading appended lines by byte offset: torn lines, truncation, replacement."""

from __future__ import annotations

import os
from pathlib import Path

from collectors.tail import Cursor, read_lines


def test_only_complete_lines_and_resume(tmp_path: Path):
    f = tmp_path / "a.jsonl"
    f.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')
    cursor = Cursor(str(f))
    assert list(read_lines(f, cursor)) == [b'{"a":1}', b'{"b":2}']
    assert cursor.offset == 16
    with open(f, "ab") as fh:
        fh.write(b"3}\n")
    assert list(read_lines(f, cursor)) == [b'{"c":3}']
    assert list(read_lines(f, cursor)) == []


def test_truncated_file_is_read_again(tmp_path: Path):
    f = tmp_path / "a.jsonl"
    f.write_bytes(b"one\ntwo\n")
    cursor = Cursor(str(f))
    assert len(list(read_lines(f, cursor))) == 2
    f.write_bytes(b"x\n")  # truncated and rewritten, same inode
    assert list(read_lines(f, cursor)) == [b"x"]


def test_replaced_file_is_read_from_start(tmp_path: Path):
    f = tmp_path / "a.jsonl"
    f.write_bytes(b"one\ntwo\nthree\n")
    cursor = Cursor(str(f))
    list(read_lines(f, cursor))
    tmp = tmp_path / "b"
    tmp.write_bytes(b"alpha\nbeta\ngamma\ndelta\n")
    os.replace(tmp, f)  # new inode, bigger than the old offset
    assert list(read_lines(f, cursor)) == [b"alpha", b"beta", b"gamma", b"delta"]


def test_missing_file_yields_nothing(tmp_path: Path):
    assert list(read_lines(tmp_path / "nope", Cursor("nope"))) == []
