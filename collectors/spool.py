"""The spool: where `podium hook` and `podium statusline` drop what Claude Code tells them.

These commands run inside Claude Code's loop, so this module imports only the
stdlib, never opens DuckDB, and never fails loudly: whatever goes wrong is
written to the spool's error log and the command still exits 0. The engine
picks the lines up (see `collectors.spool_reader`).

One line per call, appended with a single `write(2)` on an `O_APPEND` file, so
concurrent hooks never interleave.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

from collectors import safe_json
from collectors.durations import duration
from collectors.windows import FIVE_HOUR, SEVEN_DAY

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

# A payload that is not a JSON object, is nested deeper than MAX_DEPTH, or is over
# MAX_PAYLOAD_BYTES (PreToolUse carries file contents; anything can arrive on stdin;
# such a payload is not even decoded) is kept as `raw`, at most MAX_RAW_CHARS
# characters of it; `"truncated": true` and `"size"` (bytes) say when some were cut.
MAX_PAYLOAD_BYTES = 1_000_000
MAX_RAW_CHARS = 65_536
MAX_DEPTH = safe_json.MAX_DEPTH
# No line written is longer; the engine skips (and counts) any longer line it finds.
MAX_LINE_BYTES = 4 << 20
NOT_AN_OBJECT = "payload is not a JSON object"


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


def encode_line(record: dict) -> bytes:
    """The spool line of `record`: one line of UTF-8 JSON, at most MAX_LINE_BYTES."""
    text = ""
    try:
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        try:
            line = (text + "\n").encode()
        except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in the payload)
            line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    except (ValueError, RecursionError, MemoryError, TypeError) as exc:
        why = safe_json.reason(exc)
    else:
        if len(line) <= MAX_LINE_BYTES:
            return line
        why = f"line over {MAX_LINE_BYTES} bytes"
    # Keep what identifies the call and the head of the rest.
    short = {k: record[k] for k in ("kind", "at", "podium_session", "event") if k in record}
    short.update(error=NOT_AN_OBJECT, reason=why, truncated=True, raw=text[:MAX_RAW_CHARS])
    return (json.dumps(short, separators=(",", ":")) + "\n").encode()


def append(kind: str, record: dict) -> bool:
    """Append one record to today's spool file of `kind`. Returns False on failure."""
    line = encode_line(record)
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


def make_record(kind: str, event: str | None, raw: str, size: int | None = None) -> dict:
    """Wrap what arrived on stdin (`size` bytes of it, if more than `raw` holds); a
    payload that is not a JSON object, too deep or too big is kept raw, truncated."""
    record: dict = {
        "kind": kind,
        "at": time.time(),
        "podium_session": os.environ.get("PODIUM_SESSION_ID") or None,
    }
    if event is not None:
        record["event"] = event
    size = len(raw.encode("utf-8", "surrogatepass")) if size is None else size
    payload, why = None, None
    if size > MAX_PAYLOAD_BYTES:
        why = f"payload over {MAX_PAYLOAD_BYTES} bytes"
    elif raw.strip():
        payload, why = safe_json.loads(raw, MAX_DEPTH)
    if isinstance(payload, dict):
        record["payload"] = payload
        return record
    record["error"] = NOT_AN_OBJECT
    if why:
        record["reason"] = why
    if size > MAX_PAYLOAD_BYTES or len(raw) > MAX_RAW_CHARS:
        record["truncated"] = True
        record["size"] = size
    record["raw"] = raw[:MAX_RAW_CHARS]
    return record


def _read_stdin() -> tuple[str, int]:
    """The head of stdin (at most MAX_PAYLOAD_BYTES + 1 bytes kept) and its full size.
    The rest is read and dropped, so the writer never blocks or gets EPIPE."""
    size = 0
    head = bytearray()
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return "", 0
        stream = sys.stdin.buffer
        while block := stream.read(1 << 20):
            size += len(block)
            if len(head) <= MAX_PAYLOAD_BYTES:
                head += block[: MAX_PAYLOAD_BYTES + 1 - len(head)]
    except (OSError, ValueError):
        pass
    return head.decode("utf-8", errors="replace"), size


def run_hook(argv: list[str]) -> int:
    """`podium hook EVENT`: spool the payload, exit 0 whatever happens."""
    # Payloads hold prompts and code: the data dir (if this makes it), spool files and
    # errors.log are the user's alone, whatever umask Claude Code has.
    umask = os.umask(0o077)
    try:
        event = argv[0] if argv else ""
        raw, size = _read_stdin()
        record = make_record("hook", event, raw, size)
        if event not in HOOK_EVENTS:
            record.setdefault("warning", f"unknown hook event {event!r}")
        if "error" in record:
            why = f" ({record['reason']})" if "reason" in record else ""
            _log_error(f"hook {event or '?'}: {record['error']}{why}")
        append("hooks", record)
    except Exception as exc:  # never break Claude Code's loop
        _log_error(f"hook failed: {exc!r}")
    finally:
        os.umask(umask)
    return 0


# Set for a chained statusline command: a `podium statusline` inside it neither spools
# the payload a second time nor chains again.
CHAINED_ENV = "PODIUM_STATUSLINE_CHAINED"
# The chained command runs inside Claude Code's statusline update: bound it. Slow
# user commands exist (`npx …` starts in about a second); hung ones must not pile up.
CHAIN_TIMEOUT = 3.0
# A failing chained command fails on every statusline update: say so once an hour.
CHAIN_LOG_EVERY = 3600.0


def run_statusline(argv: list[str]) -> int:
    """`podium statusline [--chain CMD]`: spool the payload, print a compact usage line,
    then the output of CMD (the user's own statusline command) given the same stdin."""
    raw = ""
    umask = os.umask(0o077)  # as in run_hook; CMD gets the caller's umask back
    try:
        chain = _chain_arg(argv)
        raw, size = _read_stdin()
        record = make_record("statusline", None, raw, size)
        nested = bool(os.environ.get(CHAINED_ENV))
        if not nested:
            append("statusline", record)
        sys.stdout.write(format_statusline(record.get("payload") or {}) + "\n")
        sys.stdout.flush()
        if chain and not nested:
            extra = run_chain(chain, raw, umask=umask)
            if extra:
                sys.stdout.write(extra + "\n")
    except Exception as exc:
        _log_error(f"statusline failed: {exc!r}")
    finally:
        os.umask(umask)
    return 0


def _chain_arg(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--chain" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--chain="):
            return arg[len("--chain=") :]
    return ""


def run_chain(
    command: str, stdin_text: str, timeout: float = CHAIN_TIMEOUT, umask: int = -1
) -> str:
    """Run the user's statusline command with the payload on stdin; its output, or "".

    The command is the user's own, from their config or Claude settings, and runs
    through `sh -c` exactly as Claude Code runs statusline commands: podium puts
    nothing of its own into that string. It gets its own process group so that a
    timeout ends it and anything it started."""
    # Only when a chained command is set: the hook commands start without them.
    import signal
    import subprocess

    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, CHAINED_ENV: "1"},
            start_new_session=True,
            umask=umask,
        )
    except OSError as exc:
        _log_chain_error(f"statusline chain {command!r} cannot start: {exc}")
        return ""
    try:
        out, _ = proc.communicate(stdin_text.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        # Something that left the group may still hold the pipe: give up on it then.
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=0.5)
        _log_chain_error(f"statusline chain {command!r} took more than {timeout}s; cut off")
        return ""
    return out.decode("utf-8", errors="replace").rstrip("\n")


def _log_chain_error(message: str) -> None:
    """Log at most once per CHAIN_LOG_EVERY (a marker file's mtime keeps the time)."""
    marker = spool_dir() / ".chain-error"
    try:
        if time.time() - marker.stat().st_mtime < CHAIN_LOG_EVERY:
            return
    except OSError:
        pass  # no marker yet
    _log_error(message + " (said once an hour)")
    with contextlib.suppress(OSError):
        marker.touch()


def _limit(limits: object, key: str) -> tuple[float, float | None] | None:
    """(used %, resets_at epoch) of one window, or None; impossible values (the known bug
    that puts an epoch into used_percentage) are dropped."""
    window = limits.get(key) if isinstance(limits, dict) else None
    if not isinstance(window, dict):
        return None
    pct = window.get("used_percentage")
    if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 101:
        return None
    resets = window.get("resets_at")
    ok = isinstance(resets, (int, float)) and not isinstance(resets, bool)
    # json reads `Infinity` and `NaN`, and 1e400: no time at all.
    ok = ok and abs(resets) < 1e12
    return float(pct), float(resets) if ok else None


def format_statusline(payload: dict, now: float | None = None) -> str:
    """One compact line: `5h 23% ↻2h14m · wk 41% · Opus 4.5 · ctx 12%`.

    The limit windows only show for plan accounts (Claude Code sends no
    `rate_limits` with an API key)."""
    now = time.time() if now is None else now
    parts: list[str] = []
    limits = payload.get("rate_limits")
    five = _limit(limits, FIVE_HOUR)
    if five is not None:
        pct, resets = five
        parts.append(
            f"5h {pct:.0f}%"
            + (f" ↻{duration(resets - now, whole_minutes=True)}" if resets and resets > now else "")
        )
    week = _limit(limits, SEVEN_DAY)
    if week is not None:
        parts.append(f"wk {week[0]:.0f}%")
    model = payload.get("model")
    if isinstance(model, dict) and model.get("display_name"):
        parts.append(str(model["display_name"]))
    ctx = payload.get("context_window")
    if isinstance(ctx, dict) and isinstance(ctx.get("used_percentage"), (int, float)):
        parts.append(f"ctx {ctx['used_percentage']:.0f}%")
    return " · ".join(parts) if parts else "podium"
