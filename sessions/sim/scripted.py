"""Directives for exact prompts, kept beside the sim account: `<data>/sim/scripted.json`.

A side channel for the directives (`[work=S]`, `[permission]`, …): the demo gives
its sessions and background tasks the prompts a person would write and tells the
sim here how each one goes, so no markup shows in a pane, the tower or the queue.
A prompt typed with directives of its own keeps them; they win over the script's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from collectors import paths

from .account import account_dir
from .script import strip_directives

FILE = "scripted.json"


def _key(prompt: str) -> str:
    """A prompt as the script knows it: without directives, whitespace collapsed."""
    return strip_directives(prompt)


def scripted_path(data_dir: Path | None = None) -> Path:
    return account_dir(data_dir) / FILE


def set_scripted(prompts: Mapping[str, str], data_dir: Path | None = None) -> Path:
    """Script `prompts` (prompt → directives, e.g. "[work=30] [nopermission]") for every
    sim of the data dir; replaces any earlier script. Returns the file."""
    directory = paths.ensure_private_dir(account_dir(data_dir))
    path = directory / FILE
    tmp = path.with_name(f".{FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({_key(p): d for p, d in prompts.items()}, fh, indent=1, ensure_ascii=False)
    os.replace(tmp, path)  # readers never see half a file
    return path


def scripted_directives(prompt: str, data_dir: Path | None = None) -> str:
    """The directives scripted for `prompt` ("" when none, or no readable script)."""
    try:
        script = json.loads(scripted_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    found = script.get(_key(prompt)) if isinstance(script, dict) else None
    return found if isinstance(found, str) else ""
