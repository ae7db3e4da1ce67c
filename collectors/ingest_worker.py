"""`python -m collectors.ingest_worker`: parse transcript ranges for the engine.

A cold ingest of a large history is CPU-bound JSON decoding, and Python threads
take turns on one core: helper processes use the others. Each reads batches of
jobs from stdin and writes their results to stdout, as length-prefixed msgpack
frames, until stdin closes. It opens no database and writes no file.
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from queue import SimpleQueue
from typing import IO

import msgspec

from collectors.transcripts import Job, RangeResult, parse_range

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
        write_frame(sink, encode([parse_range(job) for job in jobs]))


class WorkerFailed(Exception):
    """A helper process died or answered nonsense; the caller parses in-process."""


class _Worker:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collectors.ingest_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.decode = msgspec.msgpack.Decoder(list[RangeResult]).decode
        self.encode = msgspec.msgpack.Encoder().encode

    def call(self, jobs: list[Job]) -> list[RangeResult]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            write_frame(self.proc.stdin, self.encode(jobs))
            return self.decode(read_frame(self.proc.stdout))
        except (OSError, EOFError, msgspec.DecodeError) as exc:
            raise WorkerFailed(f"ingest helper {self.proc.pid} failed: {exc!r}") from None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin:
                self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


class WorkerPool:
    """`n` helper processes; `run` yields results in job order, with a bounded number
    of batches in flight so that memory does not grow with the size of the history."""

    def __init__(self, n: int) -> None:
        self.workers = [_Worker() for _ in range(n)]
        self.idle: SimpleQueue[_Worker] = SimpleQueue()
        for worker in self.workers:
            self.idle.put(worker)
        self.threads = ThreadPoolExecutor(n, thread_name_prefix="ingest-helper")

    def _call(self, jobs: list[Job]) -> list[RangeResult]:
        worker = self.idle.get()
        try:
            return worker.call(jobs)
        finally:
            self.idle.put(worker)

    def run(self, jobs: Iterable[Job], batch_bytes: int = 16 << 20) -> Iterator[RangeResult]:
        """Results of `jobs`, in order. Small jobs (small files) travel in batches of
        about `batch_bytes`: one round trip per file would cost more than its parsing."""
        pending: deque[Future[list[RangeResult]]] = deque()
        limit = 2 * len(self.workers)
        for batch in _batches(jobs, batch_bytes):
            pending.append(self.threads.submit(self._call, batch))
            if len(pending) >= limit:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

    def close(self) -> None:
        self.threads.shutdown(wait=True, cancel_futures=True)
        for worker in self.workers:
            worker.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _batches(jobs: Iterable[Job], size: int) -> Iterator[list[Job]]:
    batch: list[Job] = []
    total = 0
    for job in jobs:
        batch.append(job)
        total += job.end - job.start
        if total >= size:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


if __name__ == "__main__":
    sys.exit(main())
