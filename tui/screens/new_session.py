"""The new-session dialog: name, directory (with completion), agent, worktree, first prompt."""

from __future__ import annotations

import os

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select

from sessions import wire
from sessions.agents import AGENTS
from tui.screens.dialog import Dialog, titled
from tui.screens.path_suggester import DirectorySuggester


class NewSessionDialog(Dialog[wire.NewParams | None]):
    """Returns the parameters of `sessions.new`, or None when cancelled."""

    def __init__(self, default_agent: str, default_cwd: str) -> None:
        super().__init__()
        self.default_agent = default_agent if default_agent in AGENTS else AGENTS[0]
        self.default_cwd = default_cwd

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("New session", classes="title")
            yield titled(Input(placeholder="default: <agent>-<n>", id="name"), "name")
            yield titled(
                Input(self.default_cwd, suggester=DirectorySuggester(), id="cwd"), "directory"
            )
            yield Select(
                [(agent, agent) for agent in AGENTS],
                value=self.default_agent,
                allow_blank=False,
                id="agent",
            )
            yield Checkbox("own git worktree and branch (podium/<name>)", id="worktree")
            yield titled(Input(placeholder="optional", id="prompt"), "first prompt")
            yield Label("", classes="problem", id="error")
            yield Label("→ completes the directory; Enter starts; Esc cancels", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", variant="primary", id="start")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        cwd = os.path.expanduser(self.query_one("#cwd", Input).value.strip() or ".")
        if not os.path.isdir(cwd):
            self.query_one("#error", Label).update(f"no such directory: {cwd}")
            self.query_one("#cwd", Input).focus()
            return
        agent = self.query_one("#agent", Select).value
        self.dismiss(
            wire.NewParams(
                name=self.query_one("#name", Input).value.strip() or None,
                cwd=os.path.abspath(cwd),
                agent=agent if isinstance(agent, str) else None,
                worktree=self.query_one("#worktree", Checkbox).value,
                prompt=self.query_one("#prompt", Input).value or None,
            )
        )
