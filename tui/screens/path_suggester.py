"""Directory completion for an Input: suggests the first subdirectory that fits.

Accept a suggestion with → (or End); typing `/` after it completes the next level.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester

# A huge directory is not scanned past this many entries (the suggestion can wait).
MAX_ENTRIES = 2000


class DirectorySuggester(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return suggest_directory(value)


def suggest_directory(value: str) -> str | None:
    """`value` completed to an existing directory (with a trailing `/`), or None."""
    if not value:
        return None
    expanded = os.path.expanduser(value)
    parent, prefix = os.path.split(expanded)
    folder = Path(parent or ".")
    try:
        entries = []
        with os.scandir(folder) as it:
            for n, entry in enumerate(it):
                if n >= MAX_ENTRIES:
                    break
                if entry.name.startswith(prefix) and entry.is_dir():
                    # Hidden directories only when asked for ("~/.c").
                    if entry.name.startswith(".") and not prefix.startswith("."):
                        continue
                    entries.append(entry.name)
    except OSError:
        return None
    if not entries:
        return None
    best = min(entries)
    if best == prefix:
        return None
    return value + best[len(prefix) :] + "/"
