"""`python -m sessions.engine`: run the engine in the foreground.

The lock and the store come first (`sessions.engine.start`): the store opens in a
thread while asyncio and the engine's modules load, so the socket answers sooner.
"""

from __future__ import annotations

import logging
import sys

from collectors.paths import Paths, UnsafePath
from collectors.settings import SettingsError, load_settings
from collectors.store import StoreError
from sessions.engine.start import prepare
from sessions.launch import private_umask
from sessions.lifecycle import AlreadyRunning


def main() -> int:
    # Before any file is made: the log, DuckDB and its WAL, spool and run files are 0600.
    private_umask()
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # watchfiles logs every batch of changes at INFO: one line per hook.
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        paths = Paths.from_env()
        prepared = prepare(paths)
        # Imported while the store opens in its thread (see the module's docstring).
        import asyncio

        from sessions.engine.core import Engine  # the bulk of the imports, as above

        asyncio.run(Engine(paths, settings).run(prepared))
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    except (SettingsError, StoreError, UnsafePath) as exc:
        print(f"engine: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"engine: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
