"""Reading appended lines by byte offset: torn lines, truncation, replacement."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from collectors import tail
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


def test_a_line_over_the_cap_is_skipped_and_reported(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(tail, "CHUNK", 16)
    f = tmp_path / "a.jsonl"
    f.write_bytes(b"short\n" + b"x" * 100 + b"\nafter\n" + b"y" * 40)
    cursor = Cursor(str(f))
    skipped: list[tuple[int, int]] = []
    lines = list(read_lines(f, cursor, max_line=30, on_skip=lambda at, n: skipped.append((at, n))))
    assert lines == [b"short", b"after"]
    # The unterminated giant at the end is passed over too: it is never held whole.
    assert skipped == [(6, 100), (113, 40)] and cursor.offset == f.stat().st_size
    with open(f, "ab") as fh:
        fh.write(b"yy\nlast\n")
    assert list(read_lines(f, cursor, max_line=30)) == [b"yy", b"last"]


def test_fifos_and_devices_are_refused_without_blocking(tmp_path: Path):
    fifo = tmp_path / "f.jsonl"
    os.mkfifo(fifo)
    link = tmp_path / "zero.jsonl"
    link.symlink_to("/dev/zero")
    done: list[str] = []

    def read() -> None:
        for path in (fifo, link):
            try:
                list(read_lines(path, Cursor(str(path))))
            except tail.NotRegularFile as exc:
                done.append(exc.strerror)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # free the thread the old code leaves in open()
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert done == ["a FIFO, skipped", "a device, skipped"]
    with pytest.raises(tail.NotRegularFile):
        tail.open_regular(fifo)
