"""`sessions.tmux.run_tmux`, the one runner of every tmux command podium sends."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessions.tmux import Tmux, TmuxError, TmuxMissing, run_tmux


@pytest.fixture
def socket() -> Iterator[str]:
    name = f"podium-runner-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False)


def _fake_tmux(folder: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    script = folder / "tmux"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))


def test_output_is_cut_at_newlines_only(socket: str) -> None:
    # A screen may hold U+2028 or a record separator, where str.splitlines would cut.
    tmux = Tmux(socket)
    tmux.run("new-session", "-d", "-s", "s", "--", "sleep", "60")
    text = "a\u2028b\x1ec"
    out = tmux.run("display-message", "-p", "--", text)
    assert out == [text]


def test_trailing_blank_lines_are_dropped_inner_ones_kept(socket: str) -> None:
    tmux = Tmux(socket)
    tmux.run("new-session", "-d", "-s", "s", "--", "sleep", "60")
    out = run_tmux(["-L", socket], "display-message", "-p", "x\n\ny\n\n")
    assert out.stdout == ["x", "", "y"] and out.returncode == 0


def test_a_tmux_that_does_not_answer_is_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tmux(tmp_path, "exec /bin/sleep 30", monkeypatch)
    with pytest.raises(TmuxError, match=r"no answer within 0\.3 s"):
        run_tmux(["-L", "x"], "list-panes", timeout=0.3)


def test_no_tmux_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TmuxMissing, match="apt-get install tmux"):
        Tmux("x").run("list-panes")


def test_the_server_answer_is_given_back_with_its_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tmux(tmp_path, 'echo "no server running on /tmp/x" >&2; exit 1', monkeypatch)
    out = run_tmux(["-L", "x"], "list-panes")
    assert (out.stdout, out.stderr, out.returncode) == ([], ["no server running on /tmp/x"], 1)
