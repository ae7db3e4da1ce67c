"""Parsing transcript ranges on every core: this process plus helper processes.

`WorkerPool.run` yields the results of a list of jobs in job order. One worker
parses in this process (in a pool thread: it starts at once, so a helper's
start-up, about 0.1-0.2 s, is hidden); the others are `collectors.ingest_worker`
processes fed through pipes. Small jobs (small files) travel in batches: a round
trip per file would cost more than parsing it. At most two batches per worker
are in flight, so memory does not grow with the size of the history.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from queue import SimpleQueue

import msgspec

from collectors.ingest_worker import read_frame, write_frame
from collectors.transcripts import Job, RangeResult, parse_range_safe


class WorkerFailed(Exception):
    """A helper process died or answered nonsense; the caller parses in-process."""


class _InProcess:
    def call(self, jobs: list[Job]) -> list[RangeResult]:
        return [parse_range_safe(job) for job in jobs]

    def close(self) -> None:
        pass


class _Helper:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collectors.ingest_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
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
    """This process and `helpers` helper processes."""

    def __init__(self, helpers: int) -> None:
        self.workers: list[_InProcess | _Helper] = [_InProcess()]
        try:
            self.workers += [_Helper() for _ in range(helpers)]
        except OSError:
            self.close()
            raise
        self.idle: SimpleQueue[_InProcess | _Helper] = SimpleQueue()
        for worker in self.workers:
            self.idle.put(worker)
        self.threads = ThreadPoolExecutor(len(self.workers), thread_name_prefix="ingest")

    @property
    def helpers(self) -> int:
        return len(self.workers) - 1

    def _call(self, jobs: list[Job]) -> list[RangeResult]:
        worker = self.idle.get()
        try:
            return worker.call(jobs)
        finally:
            self.idle.put(worker)

    def run(self, jobs: Iterable[Job], batch_bytes: int = 8 << 20) -> Iterator[RangeResult]:
        """Results of `jobs`, in order."""
        pending: deque[Future[list[RangeResult]]] = deque()
        limit = 2 * len(self.workers)
        for batch in _batches(jobs, batch_bytes):
            pending.append(self.threads.submit(self._call, batch))
            if len(pending) >= limit:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

    def close(self) -> None:
        if hasattr(self, "threads"):
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
