"""A banner across the top for what is wrong with the world outside the app.

Each problem has a key (`engine`, `tmux`, `themes`, …) so that it can be
replaced or cleared on its own; nothing shows when there is none.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget


class Banner(Widget):
    DEFAULT_CSS = """
    Banner {
        height: auto;
        display: none;
        background: $error 25%;
        color: $text;
        padding: 0 1;
    }
    Banner.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.problems: dict[str, str] = {}

    def set(self, key: str, text: str | None) -> None:
        """Show `text` for `key`, or clear it with None."""
        if text is None:
            self.problems.pop(key, None)
        else:
            self.problems[key] = text
        self.set_class(bool(self.problems), "-shown")
        self.refresh(layout=True)

    def render(self) -> Content:
        return Content("\n").join(
            Content.assemble(("⚠ ", "bold $error"), text) for text in self.problems.values()
        )
