"""Key bindings: ids, and the keymap that the `[keys]` config section makes of them.

Every binding of the tower has an id `podium.<key name>`, where the key name
is a field of `KeySettings`; Textual's keymap then replaces the default keys
with the configured ones.
"""

from __future__ import annotations

from collectors.settings import KeySettings


def binding_id(name: str) -> str:
    return f"podium.{name}"


def keymap(keys: KeySettings) -> dict[str, str]:
    """Binding id → comma-separated keys, only for keys that differ from the default."""
    default = KeySettings()
    out = {}
    for name in KeySettings.__struct_fields__:
        value = ",".join(k.strip() for k in getattr(keys, name).split(","))
        if value != ",".join(k.strip() for k in getattr(default, name).split(",")):
            out[binding_id(name)] = value
    return out


def first_key(keys: KeySettings, name: str) -> str:
    """The first configured key for an action, as a person would type it."""
    key = getattr(keys, name).split(",")[0].strip()
    return {"question_mark": "?", "space": "Space", "enter": "Enter", "tab": "Tab"}.get(key, key)
