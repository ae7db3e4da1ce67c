"""User themes: one TOML file per theme in a folder (`<config dir>/themes/*.toml`).

```toml
name = "solarized-night"      # default: the file's name without .toml
dark = true
primary = "#268bd2"
background = "#002b36"
# secondary, accent, warning, error, success, foreground, surface, panel, boost

[variables]                   # podium's (state-busy, state-waiting, …) or Textual's
state-waiting = "#859900"
```
A bad file never stops the app: it is skipped and reported with its path and
the reason, so the caller can show that line.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

_COLOURS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_NUMBERS = ("luminosity_spread", "text_alpha")


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the key."""


def theme_from_toml(data: dict[str, Any], default_name: str) -> Theme:
    """A Textual `Theme` from a parsed theme file; raises `ThemeFileError`."""
    known = {"name", "dark", "variables", *_COLOURS, *_NUMBERS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ThemeFileError(f"unknown key '{unknown[0]}'")
    if "primary" not in data:
        raise ThemeFileError("'primary' is required")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError("'name' must be a non-empty string")
    kwargs: dict[str, Any] = {}
    for key in _COLOURS:
        if key in data:
            kwargs[key] = _colour(key, data[key])
    for key in _NUMBERS:
        if key in data:
            if not isinstance(data[key], int | float):
                raise ThemeFileError(f"'{key}' must be a number")
            kwargs[key] = float(data[key])
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError("'dark' must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ThemeFileError("[variables] must map names to strings")
    for key, value in variables.items():
        if key.startswith("state-"):
            _colour(f"variables.{key}", value)
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **kwargs)


def _colour(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"'{key}' must be a colour string such as \"#1e90ff\"")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"'{key}': {value!r} is not a colour") from None
    return value


def load_user_themes(folder: Path) -> tuple[list[Theme], list[str]]:
    """Themes from `folder/*.toml` (sorted by file name) and one line per bad file."""
    themes: list[Theme] = []
    problems: list[str] = []
    if not folder.is_dir():
        return themes, problems
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            themes.append(theme_from_toml(data, path.stem))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"theme {path}: cannot read it ({exc})")
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"theme {path}: not valid TOML ({exc})")
        except ThemeFileError as exc:
            problems.append(f"theme {path}: {exc}")
    return themes, problems
