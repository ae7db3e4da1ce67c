"""docs/config.md is what the settings say: every key, its default, its docstring."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import msgspec

from collectors.config_doc import REGENERATE, render
from collectors.settings import FillSettings, documented_keys, load_settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_the_page_is_what_the_settings_write() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        f"docs/config.md is stale: run {REGENERATE}"
    )


def test_every_documented_key_is_on_the_page() -> None:
    page = render()
    for key, _default, doc in documented_keys():
        name = key.rsplit(".", 1)[-1]
        assert f"| `{name}` |" in page, key
        assert " ".join(doc.split()).replace("|", "\\|") in page, key


def test_the_pages_toml_is_a_config_podium_reads(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", render(), re.S)
    assert len(blocks) >= 2  # the example, and the reserve schedule's default
    for block in blocks:
        file = tmp_path / "config.toml"
        file.write_text(block)
        load_settings(file, environ={})  # raises on a wrong key or value
    # The default written out is the default.
    written = tomllib.loads(blocks[-1])["fill"]["reserve"]
    rules = msgspec.to_builtins(FillSettings().reserve)
    assert written == [{k: v for k, v in rule.items() if v is not None} for rule in rules]
