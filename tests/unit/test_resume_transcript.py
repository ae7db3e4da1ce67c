"""Whether a Claude session has a conversation to resume: its transcript, checked
without opening or following anything."""

from __future__ import annotations

import os
from pathlib import Path

from sessions.agents import claude_config_dir, has_transcript

SID = "0c155bc9-8c99-4b2c-8a92-f4edea410546"


def _project(config: Path) -> Path:
    folder = config / "projects" / "-work-repo"
    folder.mkdir(parents=True)
    return folder


def test_a_transcript_with_something_in_it_can_be_resumed(tmp_path: Path) -> None:
    (_project(tmp_path) / f"{SID}.jsonl").write_text('{"type":"user"}\n')
    assert has_transcript(SID, tmp_path)


def test_no_empty_or_odd_file_counts_as_a_transcript(tmp_path: Path) -> None:
    assert not has_transcript(SID, tmp_path)  # never prompted: nothing written
    folder = _project(tmp_path)
    path = folder / f"{SID}.jsonl"
    path.write_text("")
    assert not has_transcript(SID, tmp_path)
    path.unlink()
    real = tmp_path / "elsewhere.jsonl"
    real.write_text('{"type":"user"}\n')
    path.symlink_to(real)  # a link is not followed
    assert not has_transcript(SID, tmp_path)
    path.unlink()
    os.mkfifo(path)  # nor is a FIFO opened (it would block)
    assert not has_transcript(SID, tmp_path)


def test_only_a_session_id_is_looked_for(tmp_path: Path) -> None:
    (_project(tmp_path) / "x.jsonl").write_text("{}\n")
    assert not has_transcript("*", tmp_path)
    assert not has_transcript("../x", tmp_path)


def test_the_config_dir_is_the_one_the_resumed_agent_gets() -> None:
    assert claude_config_dir({"CLAUDE_CONFIG_DIR": "/c/d", "HOME": "/h"}) == Path("/c/d")
    assert claude_config_dir({"HOME": "/h"}) == Path("/h/.claude")
