"""Attention items over a real DuckDB file, and the engine's limit and order rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.paths import Paths
from collectors.settings import Settings, SettingsError, load_settings
from collectors.store import open_store
from sessions import wire
from sessions.attention import AttentionBook, attention_order, waiting_first
from sessions.engine.core import Engine
from sessions.engine.events import EventBus
from sessions.engine.stage import StageKeeper
from sessions.registry import Registry, SessionRecord
from sessions.state import Change, Source, State

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def book(tmp_path: Path) -> AttentionBook:
    return AttentionBook(open_store(tmp_path / "p.duckdb"))


def test_items_open_on_attention_states_and_close_once(book: AttentionBook) -> None:
    item = book.on_state("s1", State.WAITING, T0, "Stop")
    assert item is not None and item.kind == "waiting"
    assert book.open_item("s1") == item
    # permission while waiting: the old item is answered, a new one opens
    second = book.on_state("s1", State.PERMISSION, T0 + timedelta(seconds=5))
    assert second is not None and second.id != item.id
    assert book.close("s1", T0 + timedelta(seconds=65), "focus") is not None
    assert book.close("s1", T0 + timedelta(seconds=70), "send") is None  # once
    assert book.on_state("s1", State.BUSY, T0 + timedelta(seconds=80)) is None
    assert book.open_items() == []


def test_items_survive_a_reopen(tmp_path: Path) -> None:
    conn = open_store(tmp_path / "p.duckdb")
    AttentionBook(conn).on_state("s1", State.LIMITED, T0)
    assert [i.kind for i in AttentionBook(conn).open_items()] == ["limited"]


def test_report_per_day(book: AttentionBook) -> None:
    # Day 1: three items answered after 10 s, 20 s and 100 s; one ended unanswered.
    for n, wait in enumerate((10, 20, 100)):
        sid = f"s{n}"
        book.on_state(sid, State.PERMISSION if n == 0 else State.WAITING, T0)
        book.close(sid, T0 + timedelta(seconds=wait), "focus")
    book.on_state("s9", State.WAITING, T0)
    book.on_state("s9", State.EXITED, T0 + timedelta(seconds=30))
    # Day 2: one limit.
    book.on_state("s5", State.LIMITED, T0 + timedelta(days=1))
    book.on_state("s5", State.IDLE, T0 + timedelta(days=1, seconds=60), close_as="reset")

    days = book.report()
    assert [d["day"] for d in days] == ["2026-11-27", "2026-11-28"]
    first = days[0]
    assert first["items"] == 4 and first["responses"] == 3
    assert first["waited_s"] == 160.0
    assert first["response_p50_s"] == 20.0
    assert first["response_p90_s"] == pytest.approx(84.0)
    assert first["permission_prompts"] == 1
    assert days[1]["limits"] == 1 and days[1]["responses"] == 0
    assert book.report(since=(T0 + timedelta(days=1)).date())[0]["day"] == "2026-11-28"


def _session(
    name: str, state: str, opened: str | None = None, since: str = "2026", created: str = ""
) -> wire.Session:
    """A listed session; `opened`: the time of its open item (of its state's kind)."""
    item = wire.AttentionItem(id=1, kind=state, opened_at=opened, waited_s=0) if opened else None
    return wire.Session(
        id=name,
        name=name,
        agent="sim",
        argv=[],
        cwd="/",
        tmux_socket="podium",
        state=state,
        attention=item,
        state_since=since,
        created_at=created or name,
    )


def _t(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


LISTING = [
    _session("idle", "idle", created="a"),
    _session("busy", "busy", since=_t(-10)),
    _session("retry", "retrying", since=_t(-60)),
    _session("old-turn", "waiting", _t(2), since=_t(2)),
    _session("asks", "permission", _t(9), since=_t(9)),
    _session("capped", "limited", _t(1), since=_t(1)),
    # Looked at, not answered: no open item, its since is when its turn ended.
    _session("seen", "seen", since=_t(3)),
    _session("asked-seen", "permission", since=_t(5)),
    _session("done", "exited", created="b"),
]


def _names(sessions: list[wire.Session]) -> list[str]:
    return [s.name for s in sessions]


def test_order_puts_blocked_first_then_oldest_then_working_then_the_rest() -> None:
    # Default: permission (seen or not) first; then waiting, seen and limited, oldest
    # first; then busy and retrying, longest first; then the rest as created.
    assert _names(attention_order(LISTING)) == [
        "asked-seen",
        "asks",
        "capped",
        "old-turn",
        "seen",
        "retry",
        "busy",
        "idle",
        "done",
    ]
    # `next` goes only where an item is open, in the same order: a seen one is skipped.
    assert _names(waiting_first(LISTING)) == ["asks", "capped", "old-turn"]


def test_the_order_follows_the_setting(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('[attention]\norder = ["permission", "waiting", "limited"]\n')
    strict = load_settings(file, environ={}).attention.order
    assert _names(attention_order(LISTING, strict))[:5] == [
        "asked-seen",
        "asks",
        "old-turn",
        "seen",
        "capped",
    ]
    # Kinds left out share the place after the listed ones, oldest first.
    assert _names(attention_order(LISTING, ["waiting"]))[:5] == [
        "old-turn",
        "seen",
        "capped",
        "asked-seen",
        "asks",
    ]
    assert _names(waiting_first(LISTING, ["waiting"])) == ["old-turn", "capped", "asks"]
    assert Settings().attention.order == ["permission", ["waiting", "limited"]]
    file.write_text('[attention]\norder = ["waiting", ["limited", "waiting"]]\n')
    with pytest.raises(SettingsError, match=r"attention\.order.*waiting listed more than once"):
        load_settings(file, environ={})
    file.write_text('[attention]\norder = ["busy"]\n')
    with pytest.raises(SettingsError, match=r"attention\.order"):
        load_settings(file, environ={})


def _engine(tmp_path: Path) -> Engine:
    """An engine with its store and parts, driven without its loop."""
    engine = Engine(Paths(data=tmp_path, runtime=tmp_path), Settings())
    engine.conn = open_store(tmp_path / "p.duckdb")
    engine.registry, engine.attention = Registry(engine.conn), AttentionBook(engine.conn)
    engine.bus = EventBus()
    engine.stage = StageKeeper(
        conn=engine.conn,
        registry=engine.registry,
        tmux=engine.tmux,
        bus=engine.bus,
        paths=engine.paths,
        ui=engine.settings.ui,
        tmux_settings=engine.settings.tmux,
        blocking=engine.blocking,
        session_json=engine.session_json,
        publish_session=engine.publish_session,
        order=engine.settings.attention.order,
    )
    return engine


def test_a_seen_turn_stays_the_persons_move_and_keeps_its_time(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    rec = SessionRecord(id="x", name="x", agent="claude", argv=[], cwd="/", tmux_socket="s")
    engine.registry.insert(rec)
    ended = datetime.now(UTC) - timedelta(minutes=5)  # the turn ended a while ago
    engine.change_state(rec, Change(State.WAITING, Source.HOOK, "Stop"), at=ended)
    assert engine.acknowledge(rec, "focus")
    assert rec.state == "seen" and rec.state_since == ended  # the turn's end, not the look
    assert engine.attention.open_item("x") is None
    stored = engine.conn.execute(
        "SELECT state, state_since FROM sessions WHERE id = 'x'"
    ).fetchone()
    assert stored == ("seen", ended)
    last = engine.conn.execute(
        "SELECT from_state, to_state, source, detail, ts > ? FROM state_transitions "
        "ORDER BY ts DESC LIMIT 1",
        [ended],
    ).fetchone()
    assert last == ("waiting", "seen", "user", "seen (focus)", True)
    assert not engine.acknowledge(rec, "focus")  # nothing open: nothing to see again
    assert rec.state == "seen"
    # Input moves it on, as it would a waiting one; the clock starts again.
    engine.acknowledge(rec, "send", input_sent=True)
    assert rec.state == "busy" and rec.state_since > ended


def test_report_counts_the_alerts_by_kind(book: AttentionBook) -> None:
    book.on_state("s1", State.WAITING, T0)
    for kind in ("bell", "message", "desktop"):
        book.record_alert(T0 + timedelta(seconds=1), kind, ["s1"], "1")
    book.record_alert(T0 + timedelta(seconds=2), "bell", ["s1", "s2"], "2")
    book.record_alert(T0 + timedelta(seconds=3), "spared", ["s3"], "looked at")
    # An alert on a day no item opened still shows that day.
    book.record_alert(T0 + timedelta(days=2), "message", ["s1"], "1")
    days = book.report()
    assert [d["day"] for d in days] == ["2026-11-27", "2026-11-29"]
    first, later = days
    assert (first["items"], first["alert_bells"], first["alert_messages"]) == (1, 2, 1)
    assert (first["alert_desktop"], first["alerts_spared"]) == (1, 1)
    assert later["items"] == 0 and later["alert_messages"] == 1 and later["alert_bells"] == 0
    assert later["waited_s"] is None
    assert book.report(since=(T0 + timedelta(days=1)).date()) == [later]
    wire.AttentionDay(**first)  # the API carries every column


def test_engine_frees_a_limited_session_at_its_reset_time(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    rec = SessionRecord(id="x", name="x", agent="claude", argv=[], cwd="/", tmux_socket="s")
    engine.registry.insert(rec)
    soon = datetime.now(UTC) + timedelta(hours=1)
    engine.change_state(
        rec,
        Change(State.LIMITED, Source.HOOK, "StopFailure rate_limit"),
        limit_text=f"You've hit your 5-hour limit · resets {soon:%-I%p} (UTC)".lower(),
    )
    assert rec.limit_resets_at is not None and rec.limit_resets_at > datetime.now(UTC)
    engine._follow_limits()
    assert engine.registry.get("x").state == "limited"  # not yet
    engine.registry.update("x", limit_resets_at=datetime.now(UTC) - timedelta(seconds=1))
    engine._follow_limits()
    assert engine.registry.get("x").state == "idle"
    assert engine.attention.open_item("x") is None
    row = engine.conn.execute("SELECT closed_by FROM attention_items").fetchone()
    assert row == ("reset",)
