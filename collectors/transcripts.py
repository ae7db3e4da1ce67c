"""Claude Code transcripts: where they are, and the usage records in them.

Pure reading, no database: `parse_range` turns a byte range of one
`projects/**/*.jsonl` file into usage rows and counts, and runs the same in the
engine's worker thread or in a helper process (`collectors.ingest_worker`).

What counts (the reference's §2, and what ccusage does): a line whose
`message.usage` is an object is one record of an API response; so is the
assistant message a `progress` line wraps in `data.message` (older Claude Code
wrote subagent messages into the parent's file that way). One response is one
`message.id` (else its `requestId`; a record with neither counts once), and
among its records a non-sidechain one wins, then the largest
input+output+cache_creation+cache_read total (`wins`). Cache creation is the
5-minute plus 1-hour breakdown when the record has it, else
`cache_creation_input_tokens`.

Bad input never stops a pass: blank lines, invalid UTF-8, non-JSON, lines
nested too deeply for any decoder (RecursionError) or too big to decode,
lines longer than MAX_LINE (skipped without being held in memory), and usage
records with wrongly typed fields (a string or a float for a token count, a
timestamp that is not a time) are skipped and counted; the first few are
described. A torn last line (a write in progress) is left unread and read
again once it is complete. A file that is not a regular file (a FIFO, socket or
device) is never opened in a way that could block (`collectors.tail.open_regular`).

Speed matters (a user's history can be several GB, single files 700 MB): only
lines that contain `"usage"` are decoded into typed structs (msgspec, which
skips the fields it is not asked for without building them); every other line
is only validated, with a decoder that builds nothing.
"""

from __future__ import annotations

import codecs
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec

from collectors.safe_json import reason
from collectors.tail import open_regular

# Bytes per read. A line longer than this is assembled from several reads.
CHUNK = 4 << 20
# Longest line read (the buffer grows up to this); longer ones are skipped and counted.
# Claude Code's longest lines (tool output, images) are a few MB.
MAX_LINE = 64 << 20
# Problems described per range; the counts stay exact.
MAX_PROBLEMS = 20
USAGE_MARKER = b'"usage":'
USER_RECORD = b'"type":"user"'
USER_RECORD_WITHIN = 512

NonNegative = Annotated[int, msgspec.Meta(ge=0)]


# gc=False: these never form reference cycles, and a pass makes hundreds of
# thousands of them; tracking them would have the collector walk them all.


class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: NonNegative = 0
    ephemeral_1h_input_tokens: NonNegative = 0


class _Usage(msgspec.Struct, gc=False):
    input_tokens: NonNegative = 0
    output_tokens: NonNegative = 0
    cache_creation_input_tokens: NonNegative = 0
    cache_read_input_tokens: NonNegative = 0
    cache_creation: _CacheCreation | None = None


class _Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None


class _Entry(msgspec.Struct, gc=False):
    """The fields of a transcript record that the usage log reads."""

    # camelCase: Claude Code's own field names.
    timestamp: datetime | None = None
    sessionId: str | None = None
    cwd: str | None = None
    entrypoint: str | None = None
    isSidechain: bool | None = None
    requestId: str | None = None
    message: _Message | None = None


class _Progress(msgspec.Struct, gc=False):
    message: _Entry | None = None


class _Record(_Entry):
    type: str | None = None
    data: _Progress | None = None
    # A usage-limit record's `rate_limit_info` (the window that refused, its reset):
    # raw, decoded on its own, so a malformed one never costs the record's tokens
    # (msgspec takes no `Raw | None`: empty is absent).
    apiErrorParams: msgspec.Raw = msgspec.Raw()
    quotaLimits: msgspec.Raw = msgspec.Raw()


class _Anything(msgspec.Struct, gc=False):
    """Decoding into this validates a JSON object and builds nothing."""


_record_decoder = msgspec.json.Decoder(_Record)
_object_decoder = msgspec.json.Decoder(_Anything)
_any_decoder = msgspec.json.Decoder()


class Row(msgspec.Struct, gc=False):
    """One usage record, as the `usage_messages` table stores it (cost is added later)."""

    dedupe_key: str
    ts: datetime
    claude_session_id: str | None
    project: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_creation_1h_tokens: int
    cache_read_tokens: int
    entrypoint: str | None
    entrypoint_raw: str | None
    is_sidechain: bool
    message_id: str | None
    request_id: str | None
    source_path: str
    cost_usd: float | None = None

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_tokens
            + self.cache_read_tokens
        )


def wins(new: Row, old: Row) -> bool:
    """Whether `new` replaces `old` for the same response (the counting rule).

    A non-sidechain record beats a sidechain one (subagent logs replay the
    parent's messages); then the larger total wins (streaming writes earlier
    blocks with partial output counts). On a tie the first one stays.
    """
    if old.is_sidechain != new.is_sidechain:
        return old.is_sidechain
    return new.total > old.total


class RateLimitSeen(msgspec.Struct, array_like=True, gc=False):
    """A usage-limit record's `rate_limit_info` (`{status, resetsAt, rateLimitType}`),
    as Claude Code wrote it into a transcript at `ts`: the limit log reads it as the
    stream's `rate_limit_event` (`collectors.limits.samples_from_rate_limit_info`)."""

    ts: datetime
    info: dict[str, Any]


class Job(msgspec.Struct, array_like=True, gc=False):
    """Read [start, end) of `path`. `start` is a line start; `end` is just after a newline,
    or, for the last range of a file (`last`), the file's size when the pass began."""

    path: str
    start: int
    end: int
    last: bool
    session_hint: str


class RangeResult(msgspec.Struct, array_like=True):
    path: str
    start: int
    # Just after the last complete line: where the next pass resumes.
    offset: int
    lines: int = 0
    bad_lines: int = 0
    problems: list[str] = []
    rows: list[Row] = []
    # A torn last line (an incomplete write) was left for the next pass.
    torn: bool = False
    # The file could not be read (the reason is in `problems`): try again next pass.
    failed: bool = False
    rate_limits: list[RateLimitSeen] = []


def entrypoint_kind(raw: str | None) -> str | None:
    """`cli` is a person at the terminal; `sdk-cli` (claude -p) and the SDKs are headless."""
    if raw == "cli":
        return "interactive"
    if raw and raw.startswith("sdk"):
        return "headless"
    return None


def session_hint(path: Path | str) -> str:
    """The session a file belongs to, for records without `sessionId`:
    `<project>/<session>.jsonl` or `<project>/<session>/subagents/<agent>.jsonl`."""
    p = Path(path)
    if p.parent.name == "subagents":
        return p.parent.parent.name
    return p.stem


def projects_dir(config_dir: Path) -> Path:
    """A Claude config dir's `projects/` (a `projects/` dir given itself is taken as is)."""
    if config_dir.name == "projects" and not (config_dir / "projects").is_dir():
        return config_dir
    return config_dir / "projects"


def find_transcripts(projects: Path) -> list[str]:
    """Every `*.jsonl` below `projects/`, subagent files included, sorted (parents
    before their subagents, so ties in the counting rule go the same way every time)."""
    found: list[str] = []
    for folder, dirs, files in os.walk(projects):
        dirs.sort()
        found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".jsonl"))
    return found


class _Parser:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.result = RangeResult(
            job.path, job.start, job.start, problems=[], rows=[], rate_limits=[]
        )
        self.keyed: dict[str, int] = {}

    def problem(self, offset: int, what: str) -> None:
        self.result.bad_lines += 1
        if len(self.result.problems) < MAX_PROBLEMS:
            self.result.problems.append(f"{self.job.path} at byte {offset}: {what}")

    def line(self, data: bytes | bytearray, start: int, end: int, offset: int) -> None:
        """One line, `data[start:end]` (newline excluded), at byte `offset` of the file.
        (`parse_range` has this inlined in its loop.)"""
        self.result.lines += 1
        if data.find(USAGE_MARKER, start, end) >= 0:
            self.usage_line(data, start, end, offset)
        elif not _looks_like_object(data, start, end):
            self.check(bytes(data[start:end]), offset)

    def usage_line(self, data: bytes | bytearray, start: int, end: int, offset: int) -> None:
        """A line that contains `"usage":`. Decoded in place (a memoryview of the read
        buffer): copying each line out first would cost as much as decoding it."""
        line = memoryview(data)[start:end]
        try:
            # msgspec skips the strings it is not asked for without checking them.
            codecs.utf_8_decode(line, "strict", True)
        except UnicodeDecodeError:
            self.problem(offset, "invalid UTF-8")
            return
        try:
            record = _record_decoder.decode(line)
        except msgspec.ValidationError as exc:
            if not _looks_like_object(data, start, end):
                self.problem(offset, "not a JSON object")  # `[{"usage": …}]`, say
            elif _has_usage(line):
                self.problem(offset, f"usage record with a wrongly typed field: {exc}")
            return
        except msgspec.DecodeError as exc:
            fixed = _without_lone_surrogates(line)
            if fixed is not None:  # JavaScript writes them; msgspec refuses them
                self.usage_line(fixed, 0, len(fixed), offset)
                return
            self.problem(offset, _why(bytes(line), exc))
            return
        except (RecursionError, MemoryError) as exc:  # 100,000 `[`, say
            self.problem(offset, reason(exc))
            return
        entry: _Entry = record
        if record.message is None or record.message.usage is None:
            wrapped = record.data.message if record.data is not None else None
            if wrapped is None or wrapped.message is None or wrapped.message.usage is None:
                return
            entry = wrapped
        self.usage(record, entry, offset)

    def check(self, line: bytes, offset: int) -> None:
        """A line that does not look like a JSON object: say what is wrong with it."""
        if not line or line.isspace():
            self.problem(offset, "blank line")
            return
        try:
            _object_decoder.decode(line)
        except msgspec.DecodeError as exc:
            self.problem(offset, _why(line, exc))
        except (RecursionError, MemoryError) as exc:
            self.problem(offset, reason(exc))

    def usage(self, outer: _Record, entry: _Entry, offset: int) -> None:
        message = entry.message
        assert message is not None and message.usage is not None
        usage = message.usage
        ts = entry.timestamp or outer.timestamp
        if ts is None:
            self.problem(offset, "usage record without a timestamp")
            return
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)  # Claude Code writes UTC ("…Z")
        if outer.apiErrorParams or outer.quotaLimits:
            self.rate_limit(outer, ts)
        if usage.cache_creation is not None:
            one_hour = usage.cache_creation.ephemeral_1h_input_tokens
            creation = usage.cache_creation.ephemeral_5m_input_tokens + one_hour
        else:
            one_hour, creation = 0, usage.cache_creation_input_tokens
        message_id = message.id or None
        request_id = entry.requestId or outer.requestId or None
        if message_id:
            key = "m:" + message_id
        elif request_id:
            key = "r:" + request_id
        else:
            key = f"l:{self.job.path}:{offset}"
        raw_entry = entry.entrypoint or outer.entrypoint
        row = Row(
            key,
            ts,
            entry.sessionId or outer.sessionId or self.job.session_hint,
            entry.cwd or outer.cwd,
            message.model,
            usage.input_tokens,
            usage.output_tokens,
            creation,
            one_hour,
            usage.cache_read_input_tokens,
            entrypoint_kind(raw_entry),
            raw_entry,
            bool(entry.isSidechain),
            message_id,
            request_id,
            self.job.path,
        )
        rows = self.result.rows
        at = self.keyed.get(key)
        if at is None:
            self.keyed[key] = len(rows)
            rows.append(row)
        elif wins(row, rows[at]):
            rows[at] = row

    def rate_limit(self, record: _Record, ts: datetime) -> None:
        """The `rate_limit_info` of a usage-limit record (`apiErrorParams`, else the
        same figures in `quotaLimits`). Decoded now: the raw bytes point into the read
        buffer, which the next read overwrites. Anything that is not an object with a
        `rateLimitType` is passed over: the record's tokens still count."""
        info: Any = None
        params = _raw_object(record.apiErrorParams)
        if params is not None:
            info = params.get("rate_limit_info")
        if not isinstance(info, dict):
            info = _raw_object(record.quotaLimits)
        if isinstance(info, dict) and isinstance(info.get("rateLimitType"), str):
            self.result.rate_limits.append(RateLimitSeen(ts, info))


def _raw_object(raw: msgspec.Raw) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = _any_decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError, MemoryError):
        return None
    return value if isinstance(value, dict) else None


def _looks_like_object(data: bytes | bytearray, start: int, end: int) -> bool:
    """`{ … }`, CRLF allowed. A line without usage only has to look like a JSON
    object: decoding it all (most of the bytes are tool output) would double the work."""
    last = end - 1
    if last > start and data[last] == 13:
        last -= 1
    return last > start and data[start] == 123 and data[last] == 125


# A `\uD800`-`\uDBFF` escape not followed by a low one, or a `\uDC00`-`\uDFFF` not
# preceded by a high one: a lone surrogate.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _without_lone_surrogates(line: bytes | bytearray | memoryview) -> bytes | None:
    """The line with each lone surrogate escape made `\\ufffd`, or None if it has none.
    JSON.stringify writes them (a string cut inside an emoji, say) and JSON.parse reads
    them; msgspec refuses the whole line, even when they sit in a field it skips, and
    the record's tokens would be lost."""
    data = bytes(line)
    if b"\\u" not in data:
        return None
    fixed = _LONE_SURROGATE.sub(rb"\\ufffd", data)
    return None if fixed == data else fixed


def _has_usage(line: bytes | memoryview) -> bool:
    """Whether a line that failed typed decoding is a usage record at all (a line of
    another kind may mention "usage" in its text, or use `message` differently)."""
    try:
        record = _any_decoder.decode(line)
    except (msgspec.DecodeError, RecursionError, MemoryError):
        return True
    if not isinstance(record, dict):
        return False
    candidates = [record.get("message")]
    data = record.get("data")
    if isinstance(data, dict) and isinstance(data.get("message"), dict):
        candidates.append(data["message"].get("message"))
    return any(isinstance(m, dict) and isinstance(m.get("usage"), dict) for m in candidates)


def _why(line: bytes, exc: msgspec.DecodeError) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    text = str(exc)
    if text.startswith("Expected `object`"):
        return "not a JSON object"
    return f"not JSON ({text})"


_local = threading.local()


def _buffer() -> bytearray:
    """This thread's read buffer, made once: a fresh one per file would be zeroed each
    time, and most files are much smaller than the buffer. One that grew for a huge
    line goes back to CHUNK bytes."""
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None or len(buf) != CHUNK:
        buf = _local.buf = bytearray(CHUNK)
    return buf


def parse_range(job: Job) -> RangeResult:
    """Usage rows (deduplicated within the range) and line counts of one byte range.

    Streams the range through one buffer of CHUNK bytes (grown only for a line
    longer than that): each read lands behind the unfinished line of the previous
    one, so no byte is copied twice and no memory is allocated per read.
    """
    parser = _Parser(job)
    result = parser.result
    buf = _buffer()
    keep = 0  # buf[:keep] is an unfinished line carried over from the previous read
    offset = job.start  # file offset of buf[0]
    lines = 0
    skipping = False  # inside a line over MAX_LINE: drop bytes up to its newline
    try:
        with open_regular(job.path) as fh:
            fh.seek(job.start)
            left = job.end - job.start
            while left > 0:
                if keep == len(buf):
                    if len(buf) >= MAX_LINE:
                        # Never hold more: count the line and drop it up to its newline.
                        lines += 1
                        parser.problem(offset, f"line over {MAX_LINE} bytes, skipped")
                        skipping, keep, offset = True, 0, offset + keep
                    else:
                        buf.extend(bytes(len(buf)))  # a line longer than the buffer
                with memoryview(buf) as view:
                    n = fh.readinto(view[keep : keep + min(len(buf) - keep, left)])
                if not n:
                    break  # the file shrank meanwhile: the next pass notices
                left -= n
                size = keep + n
                start = 0
                find = buf.find
                if skipping:
                    start = find(b"\n", 0, size) + 1
                    if not start:
                        offset += size
                        keep = 0
                        continue
                    skipping = False
                # The hot loop: `_Parser.line`, inlined (a call per line shows in profiles).
                while (end := find(b"\n", start, size)) >= 0:
                    lines += 1
                    # A user record (most bytes: tool output) carries no usage; Claude Code
                    # writes its type near the start. Anything else is searched in full.
                    if (
                        find(USER_RECORD, start, min(end, start + USER_RECORD_WITHIN)) < 0
                        and find(USAGE_MARKER, start, end) >= 0
                    ):
                        parser.usage_line(buf, start, end, offset + start)
                    else:
                        last = end - 1
                        if last > start and buf[last] == 13:
                            last -= 1
                        if not (last > start and buf[start] == 123 and buf[last] == 125):
                            parser.check(bytes(buf[start:end]), offset + start)
                    start = end + 1
                keep = size - start
                buf[:keep] = buf[start:size]
                offset += start
    except OSError as exc:
        result.problems.append(f"{job.path}: cannot read: {exc.strerror or exc}")
        result.failed = True
        result.offset = offset
        result.lines += lines
        return result
    result.offset = offset
    result.lines += lines
    if keep:
        pending = bytes(buf[:keep])
        if not job.last:
            # Ranges end on a newline by construction; anything else means the file
            # changed under us. Leave it for the next pass.
            return result
        # An unterminated last line: a record Claude Code is still writing, or a
        # complete one without its newline. Use it if it is complete, but resume
        # before it either way, so it is read (and upserted, idempotently) again.
        try:
            _object_decoder.decode(_without_lone_surrogates(pending) or pending)
        except (msgspec.DecodeError, RecursionError, MemoryError):
            result.torn = True
            parser.problem(offset, f"torn last line ({len(pending)} bytes), read again later")
            result.lines += 1
            return result
        parser.line(pending, 0, len(pending), offset)
    return result


def parse_range_safe(job: Job) -> RangeResult:
    """`parse_range`, whatever happens: an exception that escapes it (a bug, memory
    running out) fails the range, to be tried again next pass, and says why."""
    try:
        return parse_range(job)
    except Exception as exc:  # the pass, and the helper process, go on
        return RangeResult(
            job.path,
            job.start,
            job.start,
            problems=[f"{job.path} from byte {job.start}: cannot parse: {reason(exc)}"],
            failed=True,
        )


def plan_ranges(path: str, start: int, end: int, hint: str, size: int = 16 << 20) -> list[Job]:
    """Split [start, end) of a file into jobs of about `size` bytes, each cut just after a
    newline, so that big files can be read by several processes at once."""
    jobs: list[Job] = []
    if end - start <= size:
        return [Job(path, start, end, True, hint)]
    with open_regular(path) as fh:
        at = start
        while end - at > size:
            fh.seek(at + size)
            cut = -1
            while cut < 0:
                block = fh.read(1 << 16)
                if not block:
                    break
                found = block.find(b"\n")
                if found >= 0:
                    cut = fh.tell() - len(block) + found + 1
            if cut < 0 or cut >= end:
                break
            jobs.append(Job(path, at, cut, False, hint))
            at = cut
        jobs.append(Job(path, at, end, True, hint))
    return jobs
