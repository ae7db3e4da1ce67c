"""Property-based tests of the parsers of untrusted input: transcript lines, hook and
statusline payloads, spool lines, and `safe_json`.

Whatever bytes come first (garbage, JSON-ish values nested up to 100,000 deep, invalid
UTF-8, NULs, CRs), no parser raises, and the good line after them still counts.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from collectors import safe_json, spool
from collectors.spool_reader import SpoolReader
from collectors.store import open_store
from collectors.tail import CursorStore
from collectors.transcripts import Job, parse_range

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

GOOD = {
    "type": "assistant",
    "timestamp": "2026-11-01T10:00:00.000Z",
    "sessionId": "s",
    "requestId": "r-good",
    "message": {
        "id": "m-good",
        "model": "claude-x",
        "usage": {"input_tokens": 7, "output_tokens": 11},
    },
}
GOOD_LINE = json.dumps(GOOD).encode()

# JSON-ish values: scalars, lists and objects, some of them decoys with usage fields.
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["usage", "message", "type", "timestamp", "data", "x"])
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    """Deep nesting, as a whole line or inside a usage record, closed or not."""
    depth = draw(st.sampled_from([10, 199, 200, 201, 999, 1_000, 5_000, 100_000]))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'{"usage":', b"}")]))
    inner = (
        opener * depth
        + (b"1" if opener != b"[" else b"")
        + closer * draw(st.sampled_from([depth, depth // 2, 0]))
    )
    wrap = draw(st.sampled_from([b"%s", b'{"message":{"usage":{"x":%s}}}', b'{"usage":%s}']))
    return wrap % inner


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


# A line: garbage bytes, a JSON-ish value, or deep nesting (no newline inside).
lines = (
    st.binary(max_size=200)
    | values.map(_json_bytes)
    | nested()
    | st.text(max_size=50).map(lambda t: t.encode("utf-8", "surrogatepass"))
).map(lambda b: b.replace(b"\n", b" "))


def _parse(data: bytes) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.jsonl"
        path.write_bytes(data)
        return parse_range(Job(str(path), 0, len(data), True, "s"))


@SETTINGS
@given(garbage=st.lists(lines, min_size=1, max_size=4))
def test_transcript_garbage_never_stops_the_next_good_line(garbage: list[bytes]) -> None:
    data = b"\n".join(garbage) + b"\n" + GOOD_LINE + b"\n"
    result = _parse(data)
    good = [row for row in result.rows if row.dedupe_key == "m:m-good"]
    assert len(good) == 1 and (good[0].input_tokens, good[0].output_tokens) == (7, 11)
    assert result.lines == len(garbage) + 1 and result.offset == len(data)
    assert not result.failed and not result.torn
    for line in garbage:
        # A line that does not even look like an object is always a bad line.
        stripped = line.rstrip(b"\r")
        if not (len(stripped) > 1 and stripped[:1] == b"{" and stripped[-1:] == b"}"):
            assert result.bad_lines >= 1


@SETTINGS
@given(line=lines)
def test_a_transcript_line_alone_never_raises(line: bytes) -> None:
    for data in (line, line + b"\n"):  # a last line without its newline too
        result = _parse(data)
        assert not result.failed
        assert result.offset in (0, len(data))


@SETTINGS
@given(data=st.binary(max_size=300) | values.map(_json_bytes) | nested())
def test_safe_json_never_raises(data: bytes) -> None:
    value, why = safe_json.loads(data)
    assert (why is None) or (value is None and isinstance(why, str) and why)
    if why is None:
        assert not safe_json.too_deep(value) if isinstance(value, (dict, list)) else True


@SETTINGS
@given(raw=st.text(max_size=300) | values.map(json.dumps) | nested().map(bytes.decode))
def test_a_hook_payload_always_makes_one_readable_spool_line(raw: str) -> None:
    record = spool.make_record("hook", "Stop", raw)
    line = spool.encode_line(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and len(line) <= spool.MAX_LINE_BYTES
    back, why = safe_json.loads(line[:-1], spool.MAX_DEPTH + 1)
    assert why is None and isinstance(back, dict)
    if "payload" in back:
        assert isinstance(back["payload"], dict) and "error" not in back
    else:
        assert back["error"] == spool.NOT_AN_OBJECT and isinstance(back["raw"], str)


@SETTINGS
@given(payload=st.dictionaries(st.text(max_size=5), values, max_size=5))
def test_an_object_payload_is_kept_as_sent(payload: dict[str, Any]) -> None:
    record = spool.make_record("hook", "Stop", json.dumps(payload))
    back = json.loads(spool.encode_line(record))
    # NaN never equals itself: compare the JSON texts.
    assert json.dumps(back["payload"], sort_keys=True) == json.dumps(payload, sort_keys=True)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(garbage=st.lists(lines, min_size=1, max_size=4))
def test_spool_garbage_never_stops_the_next_good_line(tmp_path: Path, garbage: list[bytes]) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        root = Path(folder)
        (root / "spool").mkdir()
        good = spool.encode_line(spool.make_record("hook", "Stop", '{"session_id": "good"}'))
        data = b"\n".join(garbage) + b"\n" + good
        (root / "spool" / "hooks-20260101.jsonl").write_bytes(data)
        conn = open_store(root / "podium.duckdb")
        try:
            reader = SpoolReader(root / "spool", CursorStore(conn))
            got = list(reader.read_new())
        finally:
            conn.close()
        assert got[-1]["payload"] == {"session_id": "good"}
        assert all(isinstance(r, dict) for r in got)
        blank = sum(1 for g in garbage if not g.strip())
        assert reader.stats.lines == len(garbage) + 1 - blank
        assert reader.stats.bad_lines == len(garbage) - blank - (len(got) - 1)


numbers = (
    st.sampled_from([math.inf, -math.inf, math.nan, 1e300, 50, 0, 101, True, None, "7"])
    | st.floats()
    | st.integers()
)
windows = st.fixed_dictionaries({}, optional={"used_percentage": numbers, "resets_at": numbers})


@example(
    payload={"rate_limits": {"five_hour": {"used_percentage": 5, "resets_at": math.inf}}}, now=0.0
)
@SETTINGS
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "rate_limits": st.fixed_dictionaries(
                {}, optional={"five_hour": windows, "seven_day": windows}
            )
            | values,
            "model": st.fixed_dictionaries({}, optional={"display_name": values}) | values,
            "context_window": st.fixed_dictionaries({}, optional={"used_percentage": numbers}),
        },
    ),
    now=st.floats(0, 4e9),
)
def test_the_statusline_line_never_fails(payload: dict[str, Any], now: float) -> None:
    """`Infinity` as a reset time (json reads it) made the line, and the chained
    command after it, disappear."""
    text = spool.format_statusline(json.loads(json.dumps(payload)), now)
    assert isinstance(text, str)
