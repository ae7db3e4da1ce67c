"""`podium review --agent`: an agent reviews the period in spare capacity, and its
findings come back beside the computed ones.

The engine computes the review, writes its compact digest
(`collectors.review.digest`) into `<data>/reviews/<stamp>/digest.json` (private), and
queues a background task whose working directory is that folder: it may read the
digest (`--allowedTools=Read`; nothing else is allowed) and answers with JSON. When
the task's run ends, its final message is checked (`collectors.review.model_findings`)
and kept as `model.json` beside the digest, or `problem.txt` says why not.
`reports.review` then shows the latest agent's findings, marked as the model's.

While fill is on, one is queued a week (`[review] agent_weekly`), the first a week
after fill was first on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from collectors.paths import ensure_private_dir
from collectors.review.model_findings import ANSWER_SCHEMA, BadAnswer, parse
from collectors.settings import ReviewSettings
from sessions import wire
from sessions.engine.parts import Blocking, Spawn
from sessions.fill.queue import QueueStore
from sessions.protocol import ApiError

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
CHECK_EVERY_S = 3600.0
TASKS_KEY = "review_agent_tasks"  # queue_state: task id -> its review folder's name
LAST_KEY = "review_agent_last"  # queue_state: when the last agent review was queued
PROMPT = """\
You review how a person used their Claude subscription, for podium (a tool that runs
their coding agents and fills spare capacity with background tasks).

Read `digest.json` in your working directory with the Read tool. It holds the period's
figures (spend by project, model, weekday and hour; the person's against the
background's; background runs' outcomes; each weekly reset with what it left unused;
when agents waited for the person) and the findings podium already computed.

Find what those findings miss: habits, patterns by weekday and hour, projects or models
that cost much for what they give, and concrete changes worth making. Do not repeat a
computed finding. Base every claim on numbers in the digest and cite them as evidence.
At most 6 findings; fewer is better than weak ones.

Answer with only one JSON object, no prose before or after it, of this shape:
{schema}
"""


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")


class ReviewAgent:
    """Queues the agent's reviews and reads their answers back."""

    def __init__(
        self,
        *,
        folder: Path,
        settings: ReviewSettings,
        store: QueueStore,
        blocking: Blocking,
        spawn: Spawn,
        queue_add: Callable[[wire.QueueAddParams], Awaitable[wire.Task]],
        compute: Callable[[wire.ReviewParams], Awaitable[tuple[wire.Review, dict[str, Any]]]],
        fill_enabled: Callable[[], bool],
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.store = store
        self.blocking = blocking
        self.spawn = spawn
        self.queue_add = queue_add
        self.compute = compute
        self.fill_enabled = fill_enabled

    # -- queueing --------------------------------------------------------------------------
    async def queue(self, params: wire.ReviewParams) -> wire.ReviewQueued:
        """Compute the review, write its digest, queue the agent's task."""
        review, digest = await self.compute(params)
        now = datetime.now(UTC)
        where = self.folder / _stamp(now)

        def write() -> None:
            ensure_private_dir(self.folder, "reviews directory")
            ensure_private_dir(where, "review directory")
            _write_private(where / "digest.json", json.dumps(digest, indent=1))

        try:
            await self.blocking(write)
        except OSError as exc:
            raise ApiError("failed", f"cannot write the review's digest: {exc}") from None
        prompt = PROMPT.format(schema=json.dumps(ANSWER_SCHEMA, indent=1))
        if params.focus and params.focus.strip():
            prompt += f"\nThe person asks you to look especially at:\n{params.focus.strip()}\n"
        task = await self.queue_add(
            wire.QueueAddParams(
                prompt=prompt,
                cwd=str(where),
                priority=-5,
                model=self.settings.agent_model or None,
                allowed_tools=["Read"],
                budget=self.settings.agent_budget,
            )
        )
        tasks = dict(self.store.state(TASKS_KEY, {}) or {})
        tasks[str(task.id)] = where.name
        self.store.set_state(TASKS_KEY, tasks)
        self.store.set_state(LAST_KEY, now.isoformat())
        return wire.ReviewQueued(
            task=task, digest=str(where / "digest.json"), findings=len(review.findings)
        )

    def due(self, now: datetime) -> bool:
        """Whether the weekly agent review should be queued now. The first comes a week
        after fill was first seen on: by then there is a week of log to review."""
        if not (self.settings.agent_weekly and self.fill_enabled()):
            return False
        last = self.store.state(LAST_KEY)
        if last is None:
            self.store.set_state(LAST_KEY, now.isoformat())
            return False
        try:
            return now - datetime.fromisoformat(str(last)) >= WEEK
        except ValueError:
            return True

    async def run(self) -> None:
        """The weekly check, once an hour for the engine's life."""
        while True:
            try:
                if self.due(datetime.now(UTC)):
                    queued = await self.queue(wire.ReviewParams())
                    log.info("queued the weekly agent review: task %d", queued.task.id)
            except (ApiError, OSError) as exc:
                log.warning("the weekly agent review was not queued: %s", exc)
            await asyncio.sleep(CHECK_EVERY_S)

    # -- reading the answer ----------------------------------------------------------------
    def on_event(self, name: str, data: dict[str, Any]) -> None:
        """A bus event: a review task's run ended, so its answer can be read."""
        if name != "queue" or not isinstance(data.get("task"), dict) or data.get("run") is None:
            return
        task = data["task"]
        if task.get("state") not in ("done", "failed"):
            return
        tasks = self.store.state(TASKS_KEY, {}) or {}
        folder = tasks.get(str(task.get("id")))
        if folder is None:
            return
        run = self.store.last_run(int(task["id"]))
        answer = (run.result if run else None) or ""
        self.spawn(self._read_answer(self.folder / folder, answer), "review-answer")

    async def _read_answer(self, where: Path, answer: str) -> None:
        await self.blocking(self._keep, where, answer)

    def _keep(self, where: Path, answer: str) -> None:
        try:
            found = parse(answer)
        except BadAnswer as exc:
            _write_private(where / "problem.txt", f"{exc}\n")
            log.warning("review %s: %s", where.name, exc)
            return
        _write_private(where / "model.json", json.dumps([f.as_dict() for f in found], indent=1))

    def latest(self) -> list[wire.Finding]:
        """The newest agent review's findings (none yet: an empty list)."""
        try:
            folders = sorted(p for p in self.folder.iterdir() if (p / "model.json").is_file())
        except OSError:
            return []
        for folder in reversed(folders):
            try:
                raw = (folder / "model.json").read_bytes()
                return msgspec.json.decode(raw, type=list[wire.Finding])
            except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.warning("review %s: model.json unreadable: %s", folder.name, exc)
        return []


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
