"""The diff screen (`d`): the selected session's changes since it started, scrollable.

Takes the stage window's width like the usage and queue screens. git runs in a
thread worker (`PodiumApp.run_blocking`, `sessions.changes`: argv only, with
nothing of the repository's config able to run a command); `r` reads it again.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.widgets import Static

from sessions import wire
from sessions.changes import Changes, changes
from tui.screens.wide import WideScreen
from tui.widgets.diff_view import DiffView
from tui.widgets.key_bar import KeyBar


def session_directory(session: wire.Session) -> str:
    """Where a session's changes are: its worktree, else its directory."""
    return session.worktree_path or session.cwd


class DiffScreen(WideScreen):
    DEFAULT_CSS = """
    DiffScreen .title {
        text-style: bold;
        color: $accent;
        padding: 0 1;
    }
    DiffScreen #diff-body {
        overflow: auto auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("r", "reload", "reload"),
    ]

    def __init__(self, session: wire.Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Static(f"Changes of {self.session.name}", classes="title", markup=False)
        with ScrollableContainer(id="diff-body"):
            yield DiffView(id="diff")
        yield KeyBar(("back", "reload"))

    def on_mount(self) -> None:
        self.query_one("#diff-body").focus()
        self.action_reload()

    def action_reload(self) -> None:
        directory = session_directory(self.session)
        start = self.session.start_commit
        app = cast(Any, self.app)
        app.run_blocking(
            f"diff of {self.session.name}", lambda: changes(directory, start), self.show
        )

    def show(self, found: Changes) -> None:
        if self.is_attached:  # the person may have left before git answered
            self.query_one(DiffView).show(found)
