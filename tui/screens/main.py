"""The main screen: banner, usage gauges, the session list and a preview."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar, Protocol, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen

from collectors.settings import KeySettings, Settings
from sessions import wire
from tui.actions import TowerActions
from tui.keys import binding_id, first_key
from tui.widgets.banner import Banner
from tui.widgets.key_bar import KeyBar
from tui.widgets.preview import Preview
from tui.widgets.session_list import SessionList
from tui.widgets.usage_header import UsageHeader

TICK_S = 1.0
# What the key bar keeps when the pane is narrow, most important first: help lists
# every key, so it stays; then what a person does most.
KEY_PRIORITY = (
    "help", "show", "next", "new", "diff", "send", "usage", "kill", "quit", "command_palette"
)  # fmt: skip


class MainHost(Protocol):
    """What the main screen uses of the app (`tui.app.PodiumApp`)."""

    actions: TowerActions
    settings: Settings
    environ: Mapping[str, str]

    def on_stage(self, session: wire.Session) -> bool: ...

    def want_zoom(self, zoomed: bool) -> None: ...


class MainScreen(Screen[None]):
    DEFAULT_CSS = """
    MainScreen #session-pane {
        height: auto;
        max-height: 50%;
    }
    MainScreen.-no-preview #session-pane {
        max-height: 100%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "up", show=False, id=binding_id("up")),
        Binding("down,j", "move(1)", "down", show=False, id=binding_id("down")),
        Binding("enter", "show", "show", id=binding_id("focus")),
        Binding("tab,space", "next", "next", id=binding_id("next")),
        Binding("n", "new", "new", id=binding_id("new")),
        Binding("s", "send", "send", id=binding_id("send")),
        Binding("x", "kill", "kill", id=binding_id("kill")),
        # Not in the footer (a narrow pane has no room); the help screen lists them.
        Binding("d", "diff", "diff", id=binding_id("diff")),
        Binding("r", "rename", "rename", show=False, id=binding_id("rename")),
        Binding("f", "fill", "fill", show=False, id=binding_id("fill")),
        Binding("e", "exited", "exited", show=False, id=binding_id("exited")),
    ]

    def __init__(self, clock: Callable[[], datetime], keys: KeySettings) -> None:
        super().__init__()
        self.clock = clock
        self.keys = keys
        self._pending_usage: list[wire.UsageWindow] | None = None

    @property
    def podium(self) -> MainHost:
        return cast("MainHost", self.app)

    def compose(self) -> ComposeResult:
        yield Banner(id="banner")
        yield UsageHeader(self.clock, id="usage-header")
        with VerticalScroll(id="session-pane"):
            yield SessionList(self.clock, on_stage=self._on_stage, id="sessions")
        yield Preview(id="preview")
        yield KeyBar(KEY_PRIORITY)

    def on_mount(self) -> None:
        if self._pending_usage is not None:
            self.query_one(UsageHeader).set_windows(self._pending_usage)
        self.session_list.set_empty_text(Content.styled("connecting to the engine…", "dim"))
        self.session_list.hidden_text = f" {{n}} exited: {first_key(self.keys, 'exited')} shows"
        self.set_class(True, "-no-preview")
        # Waits and reset times move with the clock: a check each second, a redraw
        # only when a figure on screen changes.
        self.set_interval(TICK_S, self._tick)

    def on_screen_resume(self) -> None:
        # Back from a wide screen or a dialog: the sessions get their places back.
        self.podium.want_zoom(False)

    def _tick(self) -> None:
        self.session_list.tick()
        for header in self.query(UsageHeader):
            header.tick()

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    # -- what the app tells us -------------------------------------------------------------
    def set_banner(self, key: str, text: str | None) -> None:
        self.query_one(Banner).set(key, text)

    def show_usage(self, windows: list[wire.UsageWindow]) -> None:
        headers = self.query(UsageHeader)
        if not headers:
            # The engine answered before the screen composed its widgets (a fast
            # engine, a slow machine): keep the figures for on_mount.
            self._pending_usage = windows
            return
        for header in headers:
            header.set_windows(windows)

    def show_sessions(
        self,
        sessions: list[wire.Session],
        *,
        loaded: bool,
        engine_up: bool,
        select: str | None = None,
    ) -> None:
        listing = self.session_list
        # Also with sessions: exited ones may all be hidden.
        listing.set_empty_text(self._empty_text(loaded, engine_up))
        listing.set_sessions(sessions)
        if select is not None:
            listing.select(select)
        self._update_preview(listing.selected)

    def _empty_text(self, loaded: bool, engine_up: bool) -> Content:
        if not engine_up and not loaded:
            return Content.styled("connecting to the engine…", "dim")
        new = first_key(self.keys, "new")
        return Content.assemble(
            ("No sessions yet.\n\n", "bold"),
            "Press ",
            (new, "bold $accent"),
            " to start one: Claude Code, another agent, or any command.\n",
            "Or run ",
            ("podium demo", "bold"),
            " in a shell to see podium with stand-in agents.\n\n",
            ("Sessions keep running when you leave; this list finds them again.", "dim"),
        )

    def _on_stage(self, session: wire.Session) -> bool:
        return self.podium.on_stage(session)

    def on_session_list_selected(self, message: SessionList.Selected) -> None:
        self._update_preview(message.session)

    def _update_preview(self, session: wire.Session | None) -> None:
        shown = session is not None and not self.podium.on_stage(session)
        self.query_one(Preview).show(session if shown else None)
        self.set_class(not shown, "-no-preview")

    # -- keys ---------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.session_list.move(delta)

    def action_show(self) -> None:
        session = self.session_list.selected
        if session is not None:
            self.podium.actions.show(session)

    def action_next(self) -> None:
        session = self.podium.actions.next_waiting()
        if session is not None:
            self.session_list.select(session.id)

    def action_new(self) -> None:
        # Imported when first opened, so the tower starts without it.
        from tui.screens.new_session import NewSessionDialog

        default_cwd = self.podium.environ.get("PWD") or "."
        dialog = NewSessionDialog(self.podium.settings.agents.default, default_cwd)
        self.app.push_screen(dialog, self._new_chosen)

    def _new_chosen(self, params: wire.NewParams | None) -> None:
        if params:
            self.podium.actions.new(params)

    def action_send(self) -> None:
        # Imported when first opened, so the tower starts without it.
        from tui.screens.send import SendDialog

        session = self.session_list.selected
        if session is None:
            return
        name = session.name

        def chosen(result: tuple[str, bool] | None) -> None:
            if result is not None:
                self.podium.actions.send(name, *result)

        self.app.push_screen(SendDialog(name), chosen)

    def action_kill(self) -> None:
        # Imported when first opened, so the tower starts without it.
        from tui.screens.confirm_kill import ConfirmKill

        session = self.session_list.selected
        if session is None:
            return
        name = session.name

        def chosen(cleanup: bool | None) -> None:
            if cleanup is not None:
                self.podium.actions.kill(name, cleanup)

        self.app.push_screen(ConfirmKill(session), chosen)

    def action_rename(self) -> None:
        # Imported when first opened, so the tower starts without it.
        from tui.screens.rename import RenameDialog

        session = self.session_list.selected
        if session is None:
            return
        name = session.name

        def chosen(new_name: str | None) -> None:
            if new_name and new_name != name:
                self.podium.actions.rename(name, new_name)

        self.app.push_screen(RenameDialog(name), chosen)

    def action_diff(self) -> None:
        # Imported when first opened, so the tower starts without it.
        from tui.screens.diff import DiffScreen

        session = self.session_list.selected
        if session is not None:
            self.app.push_screen(DiffScreen(session))

    def action_fill(self) -> None:
        self.podium.actions.toggle_fill()

    def action_exited(self) -> None:
        listing = self.session_list
        listing.set_show_exited(not listing.show_exited)
