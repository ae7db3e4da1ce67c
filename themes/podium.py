"""podium's own themes: a dark and a light one, with the state colours as variables."""

from __future__ import annotations

from textual.theme import Theme

# Session states as the engine names them (kept here as data: themes import no podium code).
STATES = (
    "starting",
    "busy",
    "retrying",
    "waiting",
    "seen",
    "permission",
    "limited",
    "idle",
    "exited",
    "lost",
)

# Podium's variables with the values of the dark theme. An app registers these as
# defaults, so that any theme (Textual's built-in ones included) has them all.
DEFAULT_VARIABLES: dict[str, str] = {
    "state-starting": "#8b949e",
    "state-busy": "#58a6ff",
    "state-retrying": "#d29922",
    "state-waiting": "#3fb950",
    "state-seen": "#7ee787",
    "state-permission": "#f85149",
    "state-limited": "#d2a8ff",
    "state-idle": "#c9d1d9",
    "state-exited": "#6e7681",
    "state-lost": "#6e7681",
    # The pace mark on a usage gauge: where even spending would stand now.
    "usage-pace": "#e3b341",
    # The unused share of a window in the usage plots (what the waste metric counts).
    "usage-unused": "#30363d",
}

PODIUM_DARK = Theme(
    name="podium-dark",
    primary="#58a6ff",
    secondary="#1f6feb",
    accent="#e3b341",
    warning="#d29922",
    error="#f85149",
    success="#3fb950",
    foreground="#c9d1d9",
    background="#0d1117",
    surface="#161b22",
    panel="#21262d",
    dark=True,
    variables=dict(DEFAULT_VARIABLES),
)

PODIUM_LIGHT = Theme(
    name="podium-light",
    primary="#0969da",
    secondary="#218bff",
    accent="#9a6700",
    warning="#9a6700",
    error="#cf222e",
    success="#1a7f37",
    foreground="#24292f",
    background="#ffffff",
    surface="#f6f8fa",
    panel="#eaeef2",
    dark=False,
    variables={
        "state-starting": "#6e7781",
        "state-busy": "#0969da",
        "state-retrying": "#9a6700",
        "state-waiting": "#1a7f37",
        "state-seen": "#2da44e",
        "state-permission": "#cf222e",
        "state-limited": "#8250df",
        "state-idle": "#24292f",
        "state-exited": "#8c959f",
        "state-lost": "#8c959f",
        "usage-pace": "#9a6700",
        "usage-unused": "#d0d7de",
        "footer-key-foreground": "#0969da",
    },
)

PODIUM_THEMES = (PODIUM_DARK, PODIUM_LIGHT)
