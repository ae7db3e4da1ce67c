"""The control tower: `PodiumApp` wires the engine link, the state and the screens.

Messages from the link's threads are applied here, on the app's thread; the
screens draw from `self.state`. Worker failures all end in
`on_worker_state_changed`, the one error handler.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.geometry import Size
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import WorkerState

from collectors import paths as paths_mod
from collectors.paths import Paths
from collectors.settings import Settings
from sessions import wire
from sessions.client import EngineUnavailable
from sessions.protocol import ApiError
from themes import DEFAULT_VARIABLES, PODIUM_THEMES, load_user_themes
from tui.actions import TowerActions
from tui.commands import TowerCommands
from tui.config_file import ConfigWriteError, set_key
from tui.engine_api import UsageOverview, zoom_tower
from tui.engine_link import EngineLink, Link
from tui.format import message_toast
from tui.keys import binding_id, keymap
from tui.messages import EngineConnected, EngineEvent, EngineLost, EngineReply, QueueChanged
from tui.screens.main import MainScreen
from tui.tower_pane import tower_window
from tui.tower_state import TowerState

USAGE_POLL_S = 60.0
T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PodiumApp(App[None]):
    """podium's control tower. It only ever leaves itself: sessions go on running."""

    TITLE = "podium"
    # Textual's toasts take at most half the width: beside the stage the tower is a
    # 19-column pane at 80 wide, and a toast there wrapped a word per line.
    CSS = """
    Toast {
        max-width: 100%;
    }
    """
    COMMANDS = App.COMMANDS | {TowerCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+p",
            "command_palette",
            "palette",
            show=False,
            priority=True,
            id=binding_id("palette"),
        ),
        Binding("q", "quit", "quit", id=binding_id("quit")),
        Binding("u", "usage", "usage", id=binding_id("usage")),
        Binding("b", "background", "queue", show=False, id=binding_id("background")),
        Binding("question_mark", "help", "help", id=binding_id("help")),
    ]

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        *,
        link: Callable[[PodiumApp], Link] | None = None,
        clock: Callable[[], datetime] | None = None,
        environ: Mapping[str, str] | None = None,
        config_path: Path | None = None,
        themes_dir: Path | None = None,
    ) -> None:
        """`link` makes the engine link (a fixed one in snapshot tests); `clock`
        gives "now" for waits and resets; `environ` is passed to new sessions
        (and tells whether the tower runs inside podium's tmux)."""
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.environ = dict(os.environ if environ is None else environ)
        self.clock = clock or _utcnow
        self.config_path = config_path or paths_mod.config_file()
        self.state = TowerState(settings.attention.order)
        self.engine_up = False
        # The usage screen's data, read ahead (`prefetch_usage`), and when to read it again.
        self.usage_ahead: UsageOverview | None = None
        self._usage_ahead_due = 0.0
        self.tower_window: str | None = None
        # Whether the tower's pane should fill the stage window (a wide screen is up).
        self.zoom_wanted = False
        self.link: Link = (link or self._engine_link)(self)
        self.actions = TowerActions(self)
        self.main = MainScreen(self.clock, settings.keys)
        themes_dir = themes_dir or self.config_path.parent / "themes"
        self.startup_problems = self._register_themes(themes_dir)
        self.set_keymap(keymap(settings.keys))

    def _engine_link(self, app: PodiumApp) -> Link:
        return EngineLink(app, self.paths, self.settings.engine.start_timeout)

    def _register_themes(self, folder: Path) -> list[str]:
        for theme in PODIUM_THEMES:
            self.register_theme(theme)
        user_themes, problems = load_user_themes(folder)
        for theme in user_themes:
            self.register_theme(theme)
        wanted = self.settings.ui.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            problems.append(f"unknown theme '{wanted}' (config ui.theme); using podium-dark")
            self.theme = "podium-dark"
        self._saved_theme = self.theme
        return problems

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Podium's variables exist under every theme, Textual's own ones included.
        return dict(DEFAULT_VARIABLES)

    def get_default_screen(self) -> Screen[Any]:
        return self.main

    def on_mount(self) -> None:
        for problem in self.startup_problems:
            self.notify(problem, severity="warning", timeout=10)
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def on_ready(self) -> None:
        # After the first frame: the screen shows at once, then the engine fills it in.
        self.link.start()
        # The stage resizes the tower's pane as sessions join, possibly while the app
        # is still starting and before its SIGWINCH handler exists: a lost resize
        # would leave it drawing for the old width. Look again once it runs.
        self.call_later(self._check_terminal_size)
        self.set_timer(1.0, self._check_terminal_size)
        self.run_worker(
            lambda: tower_window(self.settings.tmux.socket, self.environ),
            name="tower window",
            thread=True,
            exit_on_error=False,
        )
        self.set_interval(USAGE_POLL_S, self.actions.refresh_usage)

    def _check_terminal_size(self) -> None:
        if self.is_headless:
            return  # Pilot tests: the size is the test's, not a terminal's
        try:
            columns, lines = os.get_terminal_size(sys.__stdout__.fileno())
        except (OSError, AttributeError, ValueError):
            return  # not a terminal (tests, pipes): nothing to compare
        size = Size(columns, lines)
        if size != self.size:
            self.post_message(events.Resize(size, size))

    def on_app_focus(self) -> None:
        # tmux unzooms a window when another of its panes is selected (Alt-1…9, a
        # click): coming back to a zoomed screen, zoom again.
        if self.zoom_wanted:
            self.want_zoom(True, again=True)

    def on_unmount(self) -> None:
        if self.zoom_wanted and self.tower_window is not None:
            # Leaving from a wide screen: give the sessions their places back now, as
            # the screen's own unzoom would need a worker that no longer runs.
            pane = self.environ.get("TMUX_PANE")
            self.link.run_last(lambda request: zoom_tower(request, False, pane))
        self.link.stop()

    # -- the engine's messages -----------------------------------------------------------
    # The link's thread posts these at any time, also while the app is closing and its
    # widgets are already gone: then there is nothing left to show them on.
    def on_engine_connected(self, message: EngineConnected) -> None:
        self.engine_up = True
        with contextlib.suppress(NoMatches):
            self.state.load(message.sessions)
            self.main.set_banner("engine", None)
            self._tmux_alive(message.status.tmux_alive, message.status.tmux_socket)
            self.show_sessions()
            self.actions.refresh_usage()

    def on_engine_event(self, message: EngineEvent) -> None:
        with contextlib.suppress(NoMatches):
            self._engine_event(message.event)

    def _engine_event(self, event: wire.Event) -> None:
        if isinstance(event, wire.SessionEvent):
            self.state.update(event.data)
        elif isinstance(event, wire.SessionRemovedEvent):
            self.state.remove(event.data.id)
        elif isinstance(event, wire.TmuxEvent):
            self._tmux_alive(event.data.alive, event.data.socket)
            return
        elif isinstance(event, wire.UsageEvent | wire.UsageLogEvent):
            self.actions.refresh_usage()
            return
        elif isinstance(event, wire.QueueEvent | wire.FillEvent):
            self.screen.post_message(QueueChanged())
            return
        elif isinstance(event, wire.MessageEvent):
            self.notify(message_toast(event.data), title="message", timeout=8)
            return
        else:
            return
        self.show_sessions()

    def on_engine_lost(self, message: EngineLost) -> None:
        self.engine_up = False
        with contextlib.suppress(NoMatches):
            self.main.set_banner(
                "engine",
                f"no engine: {message.reason}. Trying again in {message.retry_in:.0f} s "
                f"(attempt {message.attempt}); the sessions go on running without it.",
            )
            self.show_sessions()

    def on_engine_reply(self, message: EngineReply) -> None:
        message.done(message.result)

    def _tmux_alive(self, alive: bool, socket: str) -> None:
        if alive is False:
            self.main.set_banner(
                "tmux",
                f"podium's tmux server (socket '{socket}') is not running: its sessions are "
                "gone. Start a new session with n; podium starts the server again.",
            )
        else:
            self.main.set_banner("tmux", None)

    # -- what the screens draw ---------------------------------------------------------------
    def show_sessions(self, select: str | None = None) -> None:
        self.main.show_sessions(
            self.state.ordered(),
            loaded=self.state.loaded,
            engine_up=self.engine_up,
            select=select,
        )

    def show_usage(self, windows: list[wire.UsageWindow]) -> None:
        self.main.show_usage(windows)

    def prefetch_usage(self) -> None:
        """Read the usage screen's data ahead, at most once a USAGE_POLL_S: `u` then
        draws its charts at once (reading them takes the engine tens of ms with a
        year of history, more on a busy machine) while the screen reads them again."""
        now = time.monotonic()
        if now < self._usage_ahead_due:
            return
        self._usage_ahead_due = now + USAGE_POLL_S
        # Imported here, after the first frame: the tower starts without the screen.
        from tui.screens.usage import prefetch_job

        job = prefetch_job(self.size.width, self.clock())
        self.link.run("usage ahead", job, self._keep_usage)

    def _keep_usage(self, overview: UsageOverview | None) -> None:
        if overview is not None:
            self.usage_ahead = overview

    def on_stage(self, session: wire.Session) -> bool:
        """Whether the person already sees this session beside the tower."""
        if session.on_stage is not None:
            return session.on_stage
        return self.tower_window is not None and session.window_id == self.tower_window

    # -- blocking work that is not the engine's ----------------------------------------------
    def run_blocking(self, name: str, job: Callable[[], T], done: Callable[[T], None]) -> None:
        """Run `job()` (blocking: git, files) in a thread worker named `name`; `done(result)`
        runs on the app's thread after. A failure reaches the one error handler."""

        def work() -> T:
            result = job()
            self.post_message(EngineReply(done, result))
            return result

        self.run_worker(work, name=name, group="blocking", thread=True, exit_on_error=False)

    # -- the stage window's width --------------------------------------------------------------
    def want_zoom(self, zoomed: bool, *, again: bool = False) -> None:
        """Ask that the tower's pane fill the stage window (a screen that needs the
        width is up: usage, queue, help, a dialog) or give the sessions their places
        back. Each screen says so as it comes up (`on_screen_resume`), so a dialog over
        a wide screen keeps the zoom, with no unzoom in between. Only the stage's own
        tower zooms; `again` asks even when that is the wish already (tmux may have
        unzoomed meanwhile)."""
        if self.zoom_wanted == zoomed and not again:
            return
        self.zoom_wanted = zoomed
        if self.tower_window is None:
            return  # not known yet, or not the stage's tower: asked when it is known
        # Requests may overlap in worker threads: each sends the latest wish, which
        # only this (UI) thread writes, so the last one to run leaves it right.
        pane = self.environ.get("TMUX_PANE")
        self.link.run("zoom", lambda call: zoom_tower(call, self.zoom_wanted, pane))

    # -- keys that work on every screen -------------------------------------------------------
    def action_usage(self) -> None:
        # Imported when first shown, so the tower starts without it.
        from tui.screens.usage import UsageScreen

        if not isinstance(self.screen, UsageScreen):
            self.push_screen(UsageScreen(self.clock, self.usage_ahead))

    def action_background(self) -> None:
        # Imported when first shown, so the tower starts without it.
        from tui.screens.background import BackgroundScreen

        if not isinstance(self.screen, BackgroundScreen):
            self.push_screen(BackgroundScreen())

    def action_help(self) -> None:
        # Imported when first shown, so the tower starts without it.
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.settings.keys, self.settings.cues))

    # -- themes -------------------------------------------------------------------------------
    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self._saved_theme:
            return
        self._saved_theme = theme.name
        path = self.config_path
        self.run_worker(
            lambda: set_key(path, "ui", "theme", theme.name),
            name="save theme",
            group="config",
            thread=True,
            exit_on_error=False,
        )

    # -- the one error handler ---------------------------------------------------------------
    def on_worker_state_changed(self, event: Any) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS and worker.name == "tower window":
            self.tower_window = worker.result
            self.show_sessions()
            if self.zoom_wanted:
                self.want_zoom(True, again=True)  # a dialog or wide screen came up first
        elif event.state == WorkerState.ERROR:
            self.report_error(worker.name, worker.error)

    def report_error(self, what: str, error: BaseException | None) -> None:
        """Say what failed in one line; never a traceback."""
        if isinstance(error, ApiError | EngineUnavailable | ConfigWriteError):
            text = getattr(error, "message", None) or str(error)
        else:
            text = f"{what} failed: {error!r}"
            self.log.error(text)
        self.notify(text, severity="error", timeout=8)
