"""The command palette's podium commands (ctrl+p): screens, and actions per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.screens.main import MainScreen
from tui.tower_state import TowerState

Command = tuple[str, Callable[[], object], str]


class CommandHost(Protocol):
    """What the palette uses of the app (`tui.app.PodiumApp`)."""

    main: MainScreen
    state: TowerState

    def action_usage(self) -> None: ...

    def action_background(self) -> None: ...

    def action_help(self) -> None: ...


class TowerCommands(Provider):
    def _commands(self) -> Iterator[Command]:
        app = cast(CommandHost, self.app)
        main = app.main
        yield (
            "Next session that needs you",
            main.action_next,
            "jump to who needs you first ([attention] order)",
        )
        yield "New session", main.action_new, "start an agent in a new pane"
        yield "Usage", app.action_usage, "usage windows, tokens, waste"
        yield "Background queue", app.action_background, "tasks that fill spare capacity"
        yield "Toggle background fill", main.action_fill, "switch filling on or off"
        yield "Help", app.action_help, "keys and state colours"
        for session in app.state.ordered():
            name, sid = session.name, session.id

            def on(action: Callable[[], None], sid: str = sid) -> Callable[[], None]:
                def run() -> None:
                    main.session_list.select(sid)
                    action()

                return run

            state = session.state
            yield f"Show {name}", on(main.action_show), f"{state}: bring it into view"
            yield f"Send to {name}", on(main.action_send), "type a line into it"
            yield f"Rename {name}", on(main.action_rename), "give it another name"
            yield f"Kill {name}", on(main.action_kill), "stop it (asks first)"

    async def discover(self) -> Hits:
        for title, run, help_text in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)
