"""A screen that wants the stage window's whole width while it shows.

The tower's pane is a quarter of the window: enough for the session list, not
for a week's plot or the queue's columns. While a wide screen is up, the
tower's pane is zoomed (`stage.zoom`: tmux's `resize-pane -Z`, the sessions
keep their places and come back on unzoom). Each screen says what it wants as
it comes up (`PodiumApp.want_zoom`): the main screen unzooms, so leaving a wide
screen for a dialog over it never unzooms in between.
"""

from __future__ import annotations

from typing import Any, cast

from textual.screen import Screen


class WideScreen(Screen[None]):
    def on_screen_resume(self) -> None:
        cast(Any, self.app).want_zoom(True)
