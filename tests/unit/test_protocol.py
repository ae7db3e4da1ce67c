"""The engine's socket against whatever a peer may send: the real `ApiServer` on a real
Unix socket, fed arbitrary bytes, JSON of every shape, nesting too deep for the parser
and lines over MAX_LINE. Every bad line gets one `bad_request` line back; the
connection then still answers the next good line, and the server the next client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sessions.engine.events import EventBus
from sessions.engine.server import ApiServer
from sessions.protocol import MAX_LINE, decode, encode
from sessions.wire import NoParams, SendParams, Sent

PING = encode({"id": "good", "method": "ping", "params": {}})


async def _ping(params: NoParams) -> dict[str, Any]:
    return {"pong": True}


async def _send(params: SendParams) -> Sent:
    return Sent(sent=len(params.text), name=params.name or "")


# Database errors the server handed on, as (what, error text).
store_failures: list[tuple[str, str]] = []


async def _full_disk(params: NoParams) -> None:
    raise duckdb.IOException('Could not write file "podium.duckdb.wal": No space left on device')


@pytest.fixture(scope="module")
def server() -> Iterator[Path]:
    """A real ApiServer with one method, on its own event loop thread."""
    root = Path(tempfile.mkdtemp(prefix="pdm-", dir="/tmp"))
    path = root / "engine.sock"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    api = ApiServer(
        path,
        {"ping": _ping, "sessions.send": _send, "status": _full_disk},
        EventBus(),
        store_failed=lambda what, exc: store_failures.append((what, str(exc))),
    )
    asyncio.run_coroutine_threadsafe(api.start(), loop).result(10)
    yield path
    asyncio.run_coroutine_threadsafe(api.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
    shutil.rmtree(root, ignore_errors=True)


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.connect(str(path))
    return sock


def _replies(sock: socket.socket, count: int) -> list[dict[str, Any]]:
    buffer = b""
    while buffer.count(b"\n") < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
    return [json.loads(line) for line in buffer.splitlines()]


def _is_bad_request(reply: dict[str, Any]) -> bool:
    return reply.get("ok") is False and reply["error"]["code"] == "bad_request"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": _json,
        "method": st.one_of(st.text(), _json),
        "params": _json,
    },
)
_deep = st.builds(
    lambda n, opener, request: (
        b'{"id":1,"method":"ping","params":' + opener * n if request else opener * n
    ),
    st.integers(min_value=1, max_value=200_000),
    st.sampled_from([b"[", b'{"a":', b"[{"]),
    st.booleans(),
)
_lines = st.one_of(
    st.binary(max_size=300),
    _json.map(lambda v: json.dumps(v).encode()),
    _objects.map(lambda v: json.dumps(v).encode()),
    _deep,
).map(lambda line: line.replace(b"\n", b" "))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(line=_lines)
def test_any_line_gets_one_bad_request_and_the_next_line_an_answer(
    server: Path, line: bytes
) -> None:
    with contextlib.suppress(ValueError):  # a line that is a real ping is no test
        assume(decode(line).get("method") != "ping")
    with _connect(server) as sock:
        sock.sendall(line + b"\n" + PING)
        replies = _replies(sock, 2)
    assert len(replies) == 2, replies
    assert _is_bad_request(replies[0]), replies[0]
    assert replies[1] == {"id": "good", "ok": True, "result": {"pong": True}}


@pytest.mark.parametrize(
    "line",
    [
        b"[" * 100_000,
        b'{"a":' * 100_000,
        b'{"id":1,"method":"ping","params":' + b"[" * 100_000,
        b'{"id":' + b"[" * 900 + b"]" * 900 + b',"method":"ping"}',
    ],
    ids=["list", "object", "params", "id"],
)
def test_deep_nesting_is_a_bad_request_not_a_recursion_error(server: Path, line: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(line + b"\n" + PING)
        first, second = _replies(sock, 2)
    assert _is_bad_request(first) and "\n" not in first["error"]["message"]
    assert second["ok"] is True


def test_params_are_decoded_into_the_methods_struct_or_refused_naming_the_field(
    server: Path,
) -> None:
    def send(params: Any) -> bytes:
        return encode({"id": 7, "method": "sessions.send", "params": params})

    with _connect(server) as sock:
        sock.sendall(send({"name": "a", "text": "hi"}) + send({"name": "a", "text": 5}))
        good, bad = _replies(sock, 2)
    assert good == {"id": 7, "ok": True, "result": {"sent": 2, "name": "a"}}
    assert _is_bad_request(bad) and bad["id"] == 7
    assert bad["error"]["message"] == ("sessions.send: Expected `str`, got `int` - at `$.text`")


def test_a_database_error_in_a_request_reloads_the_engine_and_is_one_line(server: Path) -> None:
    with _connect(server) as sock:
        sock.sendall(encode({"id": 3, "method": "status"}))
        (reply,) = _replies(sock, 1)
    assert reply["ok"] is False and reply["error"]["code"] == "internal"
    assert "No space left on device" in reply["error"]["message"]
    assert "\n" not in reply["error"]["message"]
    assert [what for what, _ in store_failures] == ["request status"]
    assert "No space left on device" in store_failures[0][1]


def test_decode_turns_every_parser_failure_into_value_error() -> None:
    for line in (b"[" * 100_000, b"\xff\xfe\x00", b'"\xff"', b"1" * 5000, b"[]", b""):
        with pytest.raises(ValueError):
            decode(line)


def test_a_line_over_max_line_does_not_wedge_the_server(server: Path) -> None:
    sock = _connect(server)
    chunk = b"x" * (1024 * 1024)
    try:
        for _ in range(MAX_LINE // len(chunk) + 2):
            sock.sendall(chunk)
        replies = _replies(sock, 1)
    except (BrokenPipeError, ConnectionResetError):
        replies = []  # closed under us: the reply may be lost with the connection
    finally:
        sock.close()
    assert all(_is_bad_request(r) for r in replies)
    with _connect(server) as again:  # the next client is served
        again.sendall(PING)
        assert _replies(again, 1)[0]["ok"] is True


_FOREIGN_CLIENT = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
data = b""
try:
    s.sendall(sys.argv[2].encode())
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:  # reset: dropped
    pass
sys.stdout.write(repr(data))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another uid")
def test_a_connection_from_another_uid_is_dropped_unanswered(server: Path) -> None:
    # Even with the socket and its directory opened up, another user gets nothing.
    os.chmod(server.parent, 0o711)
    os.chmod(server, 0o666)
    try:
        out = subprocess.run(
            ["/usr/bin/python3", "-I", "-S", "-c", _FOREIGN_CLIENT, str(server), PING.decode()],
            user=65534,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            cwd="/",
        )
    finally:
        os.chmod(server, 0o600)
        os.chmod(server.parent, 0o700)
    assert out.stdout == "b''"
    with _connect(server) as sock:  # its own user is still served
        sock.sendall(PING)
        assert _replies(sock, 1)[0]["ok"] is True
