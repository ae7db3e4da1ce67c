"""A screen that wants the stage window's whole width while it shows.

The tower's pane is a quarter of the window: enough for the session list, not
for a week's plot or the queue's columns. While a wide screen is up, the
tower's pane is zoomed (`stage.zoom`: tmux's `resize-pane -Z`, the sessions
keep their places and come back on unzoom); leaving the screen unzooms.
"""

from __future__ import annotations

from typing import Any, cast

from textual.screen import Screen

from tui.engine_api import zoom_tower


class WideScreen(Screen[None]):
    def on_screen_resume(self) -> None:
        self._want_zoom(True)

    def on_screen_suspend(self) -> None:
        self._want_zoom(False)

    def on_unmount(self) -> None:
        # A popped screen may be gone before its suspend is handled.
        self._want_zoom(False)

    def _want_zoom(self, zoomed: bool) -> None:
        app = cast(Any, self.app)
        if app.tower_window is None:
            return  # not the stage's tower (run by hand elsewhere): nothing to zoom
        if app.zoom_wanted == zoomed:
            return
        app.zoom_wanted = zoomed
        # Requests may overlap in worker threads: each sends the latest wish, which
        # only this (UI) thread writes, so the last one to run leaves it right.
        pane = app.environ.get("TMUX_PANE")
        app.link.run("zoom", lambda call: zoom_tower(call, app.zoom_wanted, pane))
