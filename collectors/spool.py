"""The spool: where `podium hook` and `podium statusline` drop what Claude Code tells them.

These commands run inside Claude Code's loop, so this module imports only the
stdlib, never opens DuckDB, and never fails loudly: whatever goes wrong is
written to the spool's error log and the command still exits 0. The engine
picks the lines up (see `collectors.spool_reader`).

One line per call, appended with a single `write(2)` on an `O_APPEND` file, so
concurrent hooks never interleave.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HOOK_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PermissionRequest",
    "Notification",
    "Stop",
    "StopFailure",
    "SubagentStop",
    "PreCompact",
    "SessionEnd",
)

# The payload must never be lost because it is huge (PreToolUse carries file
# contents); but a line of many MB would slow the engine. Keep the head.
MAX_PAYLOAD_CHARS = 256_000


def spool_dir() -> Path:
    # Imported lazily would cost nothing here: paths is stdlib-only at import.
    from collectors.paths import data_dir

    return data_dir() / "spool"


def spool_file(kind: str, now: float | None = None) -> Path:
    day = time.strftime("%Y%m%d", time.gmtime(now if now is not None else time.time()))
    return spool_dir() / f"{kind}-{day}.jsonl"


def _log_error(message: str) -> None:
    try:
        path = spool_dir()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(path / "errors.log", "a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {message}\n")
    except OSError:
        sys.stderr.write(f"podium: {message}\n")


def append(kind: str, record: dict) -> bool:
    """Append one record to today's spool file of `kind`. Returns False on failure."""
    line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    path = spool_file(kind, record.get("at"))
    for attempt in (0, 1):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except FileNotFoundError:
            if attempt:
                break
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                _log_error(f"cannot create spool dir {path.parent}: {exc}")
                return False
            continue
        except OSError as exc:
            _log_error(f"cannot open {path}: {exc}")
            return False
        try:
            os.write(fd, line)
            return True
        except OSError as exc:
            _log_error(f"cannot write {path}: {exc} (is the disk full?)")
            return False
        finally:
            os.close(fd)
    return False


def make_record(kind: str, event: str | None, raw: str) -> dict:
    """Wrap what arrived on stdin; a payload that is not a JSON object is kept raw."""
    record: dict = {
        "kind": kind,
        "at": time.time(),
        "podium_session": os.environ.get("PODIUM_SESSION_ID") or None,
    }
    if event is not None:
        record["event"] = event
    try:
        payload = json.loads(raw) if raw.strip() else None
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        record["payload"] = payload
    else:
        record["error"] = "payload is not a JSON object"
        record["raw"] = raw[:MAX_PAYLOAD_CHARS]
    return record


def _read_stdin() -> str:
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return ""
        data = sys.stdin.buffer.read()
    except (OSError, ValueError):
        return ""
    return data.decode("utf-8", errors="replace")


def run_hook(argv: list[str]) -> int:
    """`podium hook EVENT`: spool the payload, exit 0 whatever happens."""
    try:
        event = argv[0] if argv else ""
        raw = _read_stdin()
        record = make_record("hook", event, raw)
        if event not in HOOK_EVENTS:
            record.setdefault("warning", f"unknown hook event {event!r}")
        if "error" in record:
            _log_error(f"hook {event or '?'}: {record['error']}")
        append("hooks", record)
    except Exception as exc:  # never break Claude Code's loop
        _log_error(f"hook failed: {exc!r}")
    return 0


def run_statusline(argv: list[str]) -> int:
    """`podium statusline`: spool the payload and print a compact status line."""
    raw = ""
    try:
        raw = _read_stdin()
        record = make_record("statusline", None, raw)
        append("statusline", record)
        sys.stdout.write(format_statusline(record.get("payload") or {}) + "\n")
    except Exception as exc:
        _log_error(f"statusline failed: {exc!r}")
    return 0


def format_statusline(payload: dict) -> str:
    """One compact line: model, context use, and the account's limit windows when known."""
    parts: list[str] = []
    model = payload.get("model")
    if isinstance(model, dict) and model.get("display_name"):
        parts.append(str(model["display_name"]))
    ctx = payload.get("context_window")
    if isinstance(ctx, dict) and isinstance(ctx.get("used_percentage"), (int, float)):
        parts.append(f"ctx {ctx['used_percentage']:.0f}%")
    limits = payload.get("rate_limits")
    if isinstance(limits, dict):
        for key, label in (("five_hour", "5h"), ("seven_day", "7d")):
            window = limits.get(key)
            if isinstance(window, dict):
                pct = window.get("used_percentage")
                if isinstance(pct, (int, float)) and 0 <= pct <= 101:
                    parts.append(f"{label} {pct:.0f}%")
    return " · ".join(parts) if parts else "podium"
