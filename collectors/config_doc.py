"""docs/config.md, written from the settings' own docstrings, defaults and bounds.

`python -m collectors.config_doc docs/config.md` rewrites the page; a test checks
that the page in the repository is what `render()` writes, so the reference
never drifts from `collectors.settings`.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from collectors.settings import Settings, _Section, field_docs

REGENERATE = "python -m collectors.config_doc docs/config.md"

INTRO = f"""\
# Configuration

One TOML file, optional, every key optional: `config.toml` in podium's config
directory (`~/.config/podium/` on Linux, `~/Library/Application Support/podium/`
on macOS; `podium doctor` prints the one it reads), or the file `PODIUM_CONFIG`
names. A wrong key or value is reported with the file and the key, and the
command stops (exit 1) rather than guess.

Any key can also come from the environment as `PODIUM_<SECTION>__<KEY>`, e.g.
`PODIUM_ENGINE__SWEEP_INTERVAL=0.5` or `PODIUM_USAGE__PLAN=max5`; the shortcuts
`PODIUM_TMUX_SOCKET` and `PODIUM_CLAUDE_BIN` also work. `PODIUM_DATA_DIR` moves
the data directory and `PODIUM_CONFIG` the file; Claude Code's own directory is
`CLAUDE_CONFIG_DIR` (comma-separated allowed) or `~/.claude`.

```toml
[usage]
plan = "max5"              # pro | max5 | max20

[fill]
night_start = "00:30"

[[fill.reserve]]           # weekdays 09:00-19:00: keep 40% of the 5-hour window for you
days = "mon-fri"
from = "09:00"
to = "19:00"
five_hour_pct = 40
[[fill.reserve]]           # the rest of the time: 10%
five_hour_pct = 10
```

Below, every key with its default. (This page is written from the settings'
own documentation in `collectors/settings.py` by `{REGENERATE}`.)
"""


def render() -> str:
    """The whole page, Markdown, ending in one newline."""
    parts = [INTRO]
    for info in msgspec.structs.fields(Settings):
        parts.extend(_section(info.encode_name, info.type, info))
    return "\n".join(parts).rstrip("\n") + "\n"


# How the headings name the tables keyed by a name of the user's.
PLACEHOLDERS = {"profiles": "<agent>", "prices.models": '"<model pattern>"'}


def _placeholder(path: str) -> str:
    return PLACEHOLDERS.get(path, "<name>")


def _section(name: str, kind: Any, info: msgspec.structs.FieldInfo) -> list[str]:
    """A top-level table: its own keys, then the tables nested in it."""
    if get_origin(kind) is dict:  # a table per name of the user's: [profiles.<agent>]
        model = get_args(kind)[1]
        doc = {f: d for f, _, d in field_docs(Settings)}.get(info.name, "")
        path = f"{name}.{_placeholder(name)}"
        return _table(f"[{path}]", model, doc, path)
    return _table(f"[{name}]", kind, "", name)


def _table(title: str, model: type[_Section], doc: str, path: str) -> list[str]:
    # The table's own docstring, else what the key holding it says.
    text = model.__dict__.get("__doc__") or doc
    lines = [f"## `{title}`", ""]
    if text.strip():
        lines += [_flat(text), ""]
    docs = {name: text for name, _, text in field_docs(model)}
    nested: list[tuple[str, type[_Section], str, bool]] = []
    lines += ["| key | default | values | what it does |", "|---|---|---|---|"]
    for info in msgspec.structs.fields(model):
        inner, many = _nested(info.type)
        if inner is not None:
            nested.append((info.encode_name, inner, docs.get(info.name, ""), many))
        lines.append(
            f"| `{info.encode_name}` | {_default(info)} | {_values(info.type)} "
            f"| {_cell(docs.get(info.name, ''))} |"
        )
    lines.append("")
    for key, inner, text, many in nested:
        sub = f"{path}.{key}"
        if not many:
            sub = f"{sub}.{_placeholder(sub)}"
        lines += _table(f"[[{sub}]]" if many else f"[{sub}]", inner, text, sub)
        default = _default_tables(model, key, sub) if many else ""
        if default:
            lines += ["Default:", "", "```toml", default, "```", ""]
    return lines


def _nested(kind: Any) -> tuple[type[_Section] | None, bool]:
    """The table type inside a list/tuple (an array of tables) or a dict (named tables)."""
    origin = get_origin(kind)
    if origin in (list, tuple):
        inner = get_args(kind)[0]
        return (inner, True) if _is_section(inner) else (None, False)
    if origin is dict:
        inner = get_args(kind)[1]
        return (inner, False) if _is_section(inner) else (None, False)
    return None, False


def _is_section(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, _Section)


def _default(info: msgspec.structs.FieldInfo) -> str:
    if info.required:
        return "required"
    value = info.default if info.default is not msgspec.NODEFAULT else info.default_factory()
    if value is None:
        return "unset"
    if isinstance(value, list | tuple) and value and all(_is_section(type(v)) for v in value):
        return "see below"
    if isinstance(value, dict | list | tuple) and not value:
        return "`[]`" if isinstance(value, list | tuple) else "none"
    return f"`{_toml(value)}`"


def _default_tables(model: type[_Section], key: str, path: str) -> str:
    """The default of an array of tables as the TOML that would write it."""
    info = next(f for f in msgspec.structs.fields(model) if f.encode_name == key)
    value = info.default if info.default is not msgspec.NODEFAULT else info.default_factory()
    blocks = []
    for item in value:
        rows = [f"[[{path}]]"]
        for name, field_value in msgspec.to_builtins(item).items():
            if field_value is not None:  # TOML has no null: a key left out is unset
                rows.append(f"{name} = {_toml(field_value)}")
        blocks.append("\n".join(rows))
    return "\n".join(blocks)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(msgspec.to_builtins(value), ensure_ascii=False)


def _values(kind: Any) -> str:
    """What a key accepts, when its type says more than its default: choices, bounds."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        shown = [_values(k) for k in get_args(kind) if k is not type(None)]
        return " ".join(s for s in shown if s)
    if origin is Literal:
        return " \\| ".join(f"`{_toml(v)}`" for v in get_args(kind))
    if origin is Annotated:
        base, *metas = get_args(kind)
        bounds = []
        for meta in metas:
            if not isinstance(meta, msgspec.Meta):
                continue
            for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
                bound = getattr(meta, attr)
                if bound is not None:
                    bounds.append(f"{sign} {_toml(bound)}")
        return ", ".join(bounds) or _values(base)
    return ""


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """A docstring in one Markdown table cell: one line, `|` escaped."""
    return _flat(text).replace("|", "\\|")


def main(argv: list[str]) -> int:
    """Write the page to the file named in `argv` (or print it)."""
    page = render()
    if not argv:
        sys.stdout.write(page)
        return 0
    Path(argv[0]).write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
