"""Textual themes for the control tower, as data.

`PODIUM_THEMES` are podium's own (dark and light); `load_user_themes` reads a
user's from TOML files. Every theme carries podium's state colours as theme
variables (`STATE_VARIABLES`, e.g. `$state-waiting` in CSS), so a theme decides
what "waiting" looks like. This package imports no podium code.
"""

from themes.podium import DEFAULT_VARIABLES, PODIUM_DARK, PODIUM_LIGHT, PODIUM_THEMES, STATES
from themes.user import load_user_themes, theme_from_toml

STATE_VARIABLES = tuple(f"state-{state}" for state in STATES)

__all__ = [
    "DEFAULT_VARIABLES",
    "PODIUM_DARK",
    "PODIUM_LIGHT",
    "PODIUM_THEMES",
    "STATES",
    "STATE_VARIABLES",
    "load_user_themes",
    "theme_from_toml",
]
