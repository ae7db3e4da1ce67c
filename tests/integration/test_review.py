"""`podium review` through a real engine on a planted log: the findings, the text a
person reads, the page (`--html`), and hostile text from a transcript kept inert."""

from __future__ import annotations

import json

from tests.conftest import PodiumEnv
from tests.unit.review_log import START, healthy_copy

HOSTILE = "Error: <script>alert(1)</script> at line {n}"


def plant(env: PodiumEnv) -> None:
    env.data.mkdir(mode=0o700, exist_ok=True)
    log = healthy_copy(env.data / "podium.duckdb", env.root)
    try:
        log.transcript_with_loop("loop-1", 8, error=HOSTILE)
        log.series()
    finally:
        log.conn.close()


def test_review_finds_the_planted_loop_and_writes_a_safe_page(podium_env: PodiumEnv) -> None:
    plant(podium_env)
    since = START.date().isoformat()
    out = podium_env.run("review", "--since", since, "--tz", "UTC", "--json")
    assert out.returncode == 0, out.stderr
    review = json.loads(out.stdout)
    loop = next(f for f in review["findings"] if f["kind"] == "loop")
    assert loop["amount"]["count"] == 8
    assert review["problems"] == []

    text = podium_env.run("review", "--since", since, "--tz", "UTC")
    assert text.returncode == 0, text.stderr
    assert "hit the same Bash error 8 times" in text.stdout
    assert "→ Fix what the tool keeps failing on" in text.stdout

    page = podium_env.root / "review.html"
    out = podium_env.run("review", "--since", since, "--tz", "UTC", "--html", str(page))
    assert out.returncode == 0, out.stderr
    html = page.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Content-Security-Policy" in html
    assert html.count('class="used"') == 2  # the 5-hour window and the week


def test_review_refuses_bad_input_in_one_line(podium_env: PodiumEnv) -> None:
    out = podium_env.run("review", "--since", "yesterday")
    assert out.returncode == 2
    assert "YYYY-MM-DD" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    out = podium_env.run("review", "--html", "/nonexistent-dir/x.html", "--since", "2026-11-01")
    assert out.returncode == 1
    assert "cannot write /nonexistent-dir/x.html" in out.stderr
