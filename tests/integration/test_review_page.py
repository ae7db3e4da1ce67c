"""The review page in a real headless Chromium (Debian's package): it loads with no
console message (no script error, no blocked fetch) and its charts render, read off
a screenshot. A page that breaks the rules is caught by the same check, so the check
itself is known to work."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from collectors.review import review
from collectors.review.page import render
from tests.unit.review_log import NOW, START, healthy_copy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (scripts/bootstrap.sh --test installs it)"
)
CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]? ?(.*)")


def shoot(page: Path, png: Path, size: str = "1200,1500") -> list[str]:
    """Screenshot `page` into `png`; the console messages Chromium logged."""
    assert CHROMIUM is not None
    out = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={png.parent / 'chromium-profile'}",
            f"--window-size={size}",
            f"--screenshot={png}",
            "--enable-logging=stderr",
            "--v=0",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert png.exists(), out.stderr[-2000:]
    return [m.group(1) for line in out.stderr.splitlines() if (m := CONSOLE.search(line))]


def colours(png: Path) -> Counter[tuple[int, int, int]]:
    with Image.open(png) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return Counter({rgb: n for n, rgb in found})


def near(counts: Counter[tuple[int, int, int]], rgb: tuple[int, int, int], tol: int = 12) -> int:
    return sum(
        n for c, n in counts.items() if all(abs(a - b) <= tol for a, b in zip(c, rgb, strict=True))
    )


@pytest.fixture
def page(tmp_path: Path) -> Path:
    log = healthy_copy(tmp_path / "podium.duckdb", tmp_path)
    conn = log.conn
    log.transcript_with_loop("loop-1", 8, error="Error: <img src=x onerror=alert(1)> line {n}")
    week = START + timedelta(days=14)
    log.flush().conn.execute(
        "DELETE FROM usage_messages WHERE ts >= ? AND ts < ?",
        [week + timedelta(days=4, hours=18), week + timedelta(days=7)],
    )
    log.week_plateaus[week] = (week + timedelta(days=4, hours=18), 62.0)
    log.series()
    result = review(
        conn, start=START, now=NOW, transcripts=lambda: sorted(tmp_path.glob("*.jsonl"))
    )
    conn.close()
    path = tmp_path / "review.html"
    path.write_text(render(result))
    return path


def test_the_page_loads_clean_and_its_charts_render(page: Path, tmp_path: Path) -> None:
    png = tmp_path / "review.png"
    assert shoot(page, png) == []
    counts = colours(png)
    with Image.open(png) as image:
        assert image.size == (1200, 1500)
    # Each chart's own colour is on the screen, in more than a few stray pixels:
    assert near(counts, (0x1D, 0x4E, 0xD8)) > 300  # used-% lines
    assert near(counts, (0xFE, 0xE9, 0xB3), tol=6) > 5000  # unused area (amber, 35%)
    assert near(counts, (0x25, 0x63, 0xEB)) > 2000  # your daily use and the heatmap
    assert near(counts, (0xA7, 0x8B, 0xFA)) > 1000  # background daily use
    assert near(counts, (0xD9, 0x77, 0x06)) > 100  # the wasted week at its reset
    assert near(counts, (0xDC, 0x26, 0x26)) > 100  # the limit line and the loop's card


def test_the_check_catches_a_page_that_breaks_the_rules(page: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        page.read_text().replace(
            "</main>", '<img src="https://example.invalid/x.png"><script>1()</script></main>'
        )
    )
    messages = shoot(bad, tmp_path / "bad.png", size="800,600")
    assert any("Content Security Policy" in m for m in messages), messages
