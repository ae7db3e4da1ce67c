"""Writing one key back into the user's config file, keeping everything else.

tomlkit keeps comments, order and formatting: the person's file stays theirs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class ConfigWriteError(Exception):
    """The config file cannot be updated; the message names it and says why."""


def set_key(file: Path, section: str, key: str, value: str) -> None:
    """Set `[section] key = value` in `file` (created if missing), atomically."""
    # Imported here: the tower imports this module before its first frame, and a
    # key is written only when the person changes a setting (~17 ms saved at start).
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = file.read_text(encoding="utf-8") if file.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigWriteError(f"cannot read {file}: {exc}") from None
    except TOMLKitError as exc:
        raise ConfigWriteError(f"{file} is not valid TOML ({exc}); it was left as it is") from None
    table = document.get(section)
    if table is None:
        table = tomlkit.table()
        document[section] = table
    elif not isinstance(table, dict):
        raise ConfigWriteError(f"{file}: '{section}' is not a table; it was left as it is")
    table[key] = value
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        # Write a sibling file and rename it: a crash never leaves half a config.
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=file.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(tomlkit.dumps(document))
        if file.exists():
            os.chmod(tmp, file.stat().st_mode & 0o777)
        os.replace(tmp, file)
    except OSError as exc:
        raise ConfigWriteError(f"cannot write {file}: {exc}") from None
