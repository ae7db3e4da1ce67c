"""`python -m collectors.ingest_worker`: parse transcript ranges for the engine.

A cold ingest of a large history is CPU-bound JSON decoding, and Python threads
take turns on one core: helper processes use the others (see
`collectors.ingest_pool`). Each reads batches of jobs from stdin and writes
their results to stdout, as length-prefixed msgpack frames, until stdin closes.
It opens no database and writes no file, and imports as little as it can: its
start-up is paid on every cold pass.
"""

from __future__ import annotations

import struct
import sys
from typing import IO

import msgspec

from collectors.transcripts import Job, parse_range_safe

_HEADER = struct.Struct(">I")


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    return _read_exact(stream, size)


def main() -> int:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    decode = msgspec.msgpack.Decoder(list[Job]).decode
    encode = msgspec.msgpack.Encoder().encode
    while True:
        try:
            jobs = decode(read_frame(source))
        except EOFError:
            return 0
        write_frame(sink, encode([parse_range_safe(job) for job in jobs]))


if __name__ == "__main__":
    sys.exit(main())
