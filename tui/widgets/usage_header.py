"""The usage header: a gauge per usage window (5-hour, weekly, model-scoped weekly)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.content import Content
from textual.widget import Widget

from collectors.durations import duration
from sessions import wire
from tui.engine_api import pace_pct, reset_in_s
from tui.widgets.gauge import gauge_content, label_width

NO_DATA = "usage: no data yet (a Claude session's first reply brings it)"


class UsageHeader(Widget):
    """Gauges; `set_windows([])` says the engine knows nothing yet."""

    DEFAULT_CSS = """
    UsageHeader {
        height: auto;
        padding: 0 1;
        border-bottom: solid $panel;
        /* A gauge is fitted to the width; should one not be, it is cut, never folded. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.windows: list[wire.UsageWindow] = []
        self.loaded = False
        self._drawn: tuple[object, ...] = ()

    def tick(self) -> None:
        """Redraw only when the clock moved a reset time or a pace mark visibly."""
        if self._signature(self.clock()) != self._drawn:
            self.refresh()

    def _signature(self, now: datetime) -> tuple[object, ...]:
        return tuple(
            (duration(reset_in_s(w, now)), round(pace_pct(w, now) or 0.0)) for w in self.windows
        )

    def set_windows(self, windows: list[wire.UsageWindow]) -> None:
        self.windows = windows
        self.loaded = True
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(1, len(self.windows))

    def on_resize(self) -> None:
        # The lines are fitted to the width: a pane the stage narrows must get new ones.
        self.refresh()

    def render(self) -> Content:
        if not self.loaded:
            return Content.styled("usage: asking the engine…", "$text-muted")
        if not self.windows:
            return Content.styled(NO_DATA, "$text-muted")
        now = self.clock()
        self._drawn = self._signature(now)
        width = self.content_region.width or self.size.width
        label = label_width(self.windows, width)
        return Content("\n").join(gauge_content(w, width, now, label) for w in self.windows)
