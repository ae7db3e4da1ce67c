"""The `podium` console script.

`podium hook` and `podium statusline` run inside Claude Code's loop, many times
a minute, and `podium key next` on every press of the next key in tmux: they
are dispatched here before anything heavy is imported (no click, no DuckDB, no
textual), and they always exit 0. The read-only commands' plain forms skip
click too (`tui.cli.lean`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Every import below is local so that each command loads only what it needs:
    # the hook, statusline and key commands start fast (see the docstring).
    if args and args[0] == "hook":
        from collectors.spool import run_hook  # stdlib only: fast

        return run_hook(args[1:])
    if args and args[0] == "statusline":
        from collectors.spool import run_statusline  # stdlib only: fast

        return run_statusline(args[1:])
    if args and args[0] == "key":
        from sessions.cue_key import run_key  # light: no click, no settings

        return run_key(args[1:])
    if args == ["tower"]:
        # Straight to the app: click and the other commands would only delay its first frame.
        from tui.tower_main import main as tower_main

        return tower_main()
    # The plain read-only commands, --help and --version: without click (tui.cli.lean).
    from tui.cli.lean import run_lean

    code = run_lean(args)
    if code is not None:
        return code
    from tui.cli.main import run  # click, and each command only when it runs

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
