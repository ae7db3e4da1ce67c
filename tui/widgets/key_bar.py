"""The key bar: the current screen's keys that fit its width, the important ones first.

Textual's `Footer` lays its keys out in a row and cuts the last one that does
not fit mid-word: in the tower's narrow pane "⏎ sho▏^p palette". This bar
drops whole entries instead, the least important first, by the order of
actions its screen gives (`priority`; actions it does not list come after, in
the order they are bound); what is left is shown in the order the keys are
bound. `fit` is that rule alone, tested without a screen.

It reads the screen's active bindings (those with `show`, and the command
palette's), so a key remapped in `[keys]` shows as configured. A click on an
entry presses its key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.content import Content
from textual.widget import Widget

# Between two entries.
GAP = "  "
PALETTE_ACTION = "command_palette"


@dataclass(frozen=True)
class KeyEntry:
    """One key as the bar shows it: what to press, what it does."""

    key: str  # as shown: "⏎", "?", "^p"
    description: str
    action: str  # the binding's action: what `priority` names
    press: str = ""  # the key a click presses (Textual's name: "question_mark")

    @property
    def width(self) -> int:
        return cell_len(self.key) + 1 + cell_len(self.description)


def fit(entries: Sequence[KeyEntry], width: int, priority: Sequence[str] = ()) -> list[KeyEntry]:
    """The entries that fit in `width` cells with `GAP` between them.

    Taken by importance (their action's place in `priority`, unlisted ones after,
    in their own order) until the next one does not fit; whole entries only, so
    no key is ever cut. Returned in their original order."""
    rank = {action: i for i, action in enumerate(priority)}
    by_importance = sorted(
        range(len(entries)), key=lambda i: (rank.get(entries[i].action, len(rank)), i)
    )
    chosen: set[int] = set()
    used = 0
    for i in by_importance:
        need = entries[i].width + (len(GAP) if chosen else 0)
        if used + need > width:
            break
        chosen.add(i)
        used += need
    return [entry for i, entry in enumerate(entries) if i in chosen]


class KeyBar(Widget):
    """One line at the bottom of a screen: its keys, as many as fit (see the module)."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        padding: 0 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    """

    def __init__(self, priority: Sequence[str] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.priority = tuple(priority)
        # Where each shown entry starts and ends (cells from the content's left).
        self._spans: list[tuple[int, int, KeyEntry]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Any) -> None:
        self.refresh()

    def entries(self) -> list[KeyEntry]:
        """The screen's keys to show, one per action (the first key bound to it)."""
        seen: set[str] = set()
        out: list[KeyEntry] = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            shown = binding.show or binding.action == PALETTE_ACTION
            if not shown or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            description = binding.description or binding.action
            if binding.action == PALETTE_ACTION:
                description = "palette"
            key = self.app.get_key_display(binding)
            out.append(KeyEntry(key, description, binding.action, binding.key))
        return out

    def render(self) -> Content:
        shown = fit(self.entries(), self.content_region.width, self.priority)
        # The palette last, as Textual's footer has it at the right end.
        shown.sort(key=lambda entry: entry.action == PALETTE_ACTION)
        parts: list[Content] = []
        self._spans = []
        x = 0
        for entry in shown:
            if parts:
                parts.append(Content(GAP))
                x += len(GAP)
            parts.append(Content.styled(entry.key, "bold $footer-key-foreground"))
            parts.append(Content(" " + entry.description))
            self._spans.append((x, x + entry.width, entry))
            x += entry.width
        return Content.assemble(*parts)

    def on_click(self, event: events.Click) -> None:
        x = event.x - self.styles.padding.left
        for start, end, entry in self._spans:
            if start <= x < end and entry.press:
                self.app.simulate_key(entry.press)
                return
