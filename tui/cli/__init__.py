"""podium's command line: `tui.cli.main` (click, every command), `tui.cli.lean` (the
plain read-only commands, `--help` and `--version` without click).

Nothing is imported here: `tui.cli.lean` and the modules it runs must load
without click.
"""
