"""Claude-format transcripts: `<config>/projects/<encoded cwd>/<session-id>.jsonl`.

`<config>` is the sim's own (`collectors.paths.sim_claude_dir`), never the
person's Claude Code config dir.

Each record is written with one O_APPEND write of a whole line, so processes
tailing the file (podium's collectors) only ever see complete records, except
for the torn-line case they must handle anyway.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors import paths

from .script import new_message_id, new_request_id

VERSION = "2.1.328"
SYNTHETIC_MODEL = "<synthetic>"
REJECTED = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected "
    "(eg. if it was a file edit, the new_string was NOT written to the file). "
    "STOP what you are doing and wait for the user to tell you how to proceed."
)


def encode_cwd(cwd: str) -> str:
    """`/tmp/proj_1` → `-tmp-proj-1`: every non-alphanumeric becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def project_dir(cwd: str) -> Path:
    return paths.sim_claude_dir() / "projects" / encode_cwd(cwd)


def transcript_path(session_id: str, cwd: str) -> Path:
    return project_dir(cwd) / f"{session_id}.jsonl"


def find_transcript(session_id: str, cwd: str) -> Path | None:
    """An existing transcript of `session_id`: this project's first, then any project."""
    name = f"{session_id}.jsonl"
    config = paths.sim_claude_dir()
    candidate = config / "projects" / encode_cwd(cwd) / name
    if candidate.is_file():
        return candidate
    return next((config / "projects").glob(f"*/{name}"), None)


def latest_session(cwd: str) -> str | None:
    """The id of the most recently written session of this project (for `--continue`)."""
    files = list(project_dir(cwd).glob("*.jsonl"))
    if not files:
        return None
    return max(files, key=lambda p: p.stat().st_mtime).stem


def git_branch(cwd: str) -> str | None:
    """The checked-out branch, read from `.git/HEAD` (no git subprocess: start fast)."""
    here = Path(cwd)
    for folder in (here, *here.parents):
        dotgit = folder / ".git"
        try:
            if dotgit.is_file():  # a worktree or submodule: "gitdir: <path>"
                target = dotgit.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
                dotgit = (folder / target).resolve()
            if not dotgit.is_dir():
                continue
            head = (dotgit / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return head.removeprefix("ref: refs/heads/") if head.startswith("ref:") else "HEAD"
    return None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def last_uuid(path: Path) -> str | None:
    """The uuid of the last complete record, to chain `parentUuid` when resuming."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 65536))
            tail = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("uuid"), str):
            return record["uuid"]
    return None


def usage_block(usage: dict[str, int] | None = None) -> dict[str, Any]:
    usage = usage or {}
    creation = usage.get("cache_creation_input_tokens", 0)
    return {
        "input_tokens": usage.get("input_tokens", 0),
        "cache_creation_input_tokens": creation,
        "cache_read_input_tokens": usage.get("cache_read_input_tokens", 0),
        "cache_creation": {"ephemeral_5m_input_tokens": creation, "ephemeral_1h_input_tokens": 0},
        "output_tokens": usage.get("output_tokens", 0),
        "service_tier": "standard",
    }


class Transcript:
    """Appends the records of one session, chaining `parentUuid` like Claude Code."""

    def __init__(self, session_id: str, cwd: str, entrypoint: str) -> None:
        self.session_id = session_id
        self.cwd = cwd
        self.entrypoint = entrypoint
        self.path = transcript_path(session_id, cwd)
        self.branch = git_branch(cwd)
        self.parent: str | None = last_uuid(self.path) if self.path.exists() else None

    def _base(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": VERSION,
        }
        if self.branch:
            base["gitBranch"] = self.branch
        base["entrypoint"] = self.entrypoint
        return base

    def _append(self, record: dict[str, Any]) -> dict[str, Any]:
        record["uuid"] = str(uuid.uuid4())
        record["timestamp"] = now_iso()
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        self.parent = record["uuid"]
        return record

    def user_prompt(self, text: str, permission_mode: str = "default") -> dict[str, Any]:
        record = self._base()
        record.update(
            type="user", message={"role": "user", "content": text}, permissionMode=permission_mode
        )
        return self._append(record)

    def tool_result(self, tool_use_id: str, content: str, is_error: bool = False) -> dict[str, Any]:
        block = {"tool_use_id": tool_use_id, "type": "tool_result", "content": content}
        if is_error:
            block["is_error"] = True
        record = self._base()
        record.update(
            type="user",
            message={"role": "user", "content": [block]},
            toolUseResult=f"Error: {content}" if is_error else {"stdout": content, "stderr": ""},
        )
        return self._append(record)

    def interrupted(self) -> dict[str, Any]:
        record = self._base()
        content = [{"type": "text", "text": "[Request interrupted by user]"}]
        record.update(type="user", message={"role": "user", "content": content})
        return self._append(record)

    def assistant_response(
        self, model: str, blocks: list[dict[str, Any]], usage: dict[str, int], stop_reason: str
    ) -> list[dict[str, Any]]:
        """One API response as Claude Code streams it: one line per content block.

        The lines share `message.id` and `requestId`; earlier lines carry a
        partial `output_tokens` (growing), only the last the full count and the
        stop reason.
        """
        message_id, request_id = new_message_id(), new_request_id()
        full = usage.get("output_tokens", 0)
        records = []
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            partial = full if last else max(1, full * (index + 1) // (len(blocks) + 1))
            record = self._base()
            record["message"] = {
                "model": model,
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": stop_reason if last else None,
                "stop_sequence": None,
                "usage": usage_block({**usage, "output_tokens": min(partial, full)}),
            }
            record["requestId"] = request_id
            record["type"] = "assistant"
            records.append(self._append(record))
        return records

    def api_error(self, text: str) -> dict[str, Any]:
        """The synthetic record Claude Code writes when the API refuses (usage limit)."""
        record = self._base()
        record.update(
            type="assistant",
            message={
                "id": str(uuid.uuid4()),
                "container": None,
                "model": SYNTHETIC_MODEL,
                "role": "assistant",
                "stop_reason": "stop_sequence",
                "stop_sequence": "",
                "type": "message",
                "usage": {**usage_block(), "service_tier": None},
                "content": [{"type": "text", "text": text}],
            },
            error="rate_limit",
            isApiErrorMessage=True,
            apiErrorStatus=429,
        )
        return self._append(record)
