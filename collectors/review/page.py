"""`podium review --html FILE`: one self-contained page of the review.

No script and no network: the charts are inline SVG drawn here, the styles inline,
and a Content-Security-Policy that forbids every fetch, so the page shows the same
offline and can be mailed. Every text from the log (session names, projects, tool
errors from someone else's repository) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

W, H = 760, 170
PAD_L, PAD_R, PAD_T, PAD_B = 40, 10, 10, 22
WINDOW_LABELS = {"five_hour": "5-hour window", "seven_day": "Week (all models)"}
AREA_COLOURS = {
    "waste": "#d97706",
    "runaway": "#dc2626",
    "attention": "#2563eb",
    "fill": "#7c3aed",
    "models": "#0d9488",
}
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
main{max-width:1180px;margin:auto;padding:20px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:22px 0 8px}
.sub{color:#475569}
.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:18px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px}
.finding{border-left:5px solid var(--c)}
.finding h3{font-size:15px;margin:0 0 4px}
.tag{display:inline-block;font-size:11px;padding:1px 6px;border-radius:9px;background:#f1f5f9;
margin-right:4px;color:#334155}
.change{background:#f0fdf4;border-radius:6px;padding:6px 8px;white-space:pre-wrap;margin:6px 0}
table{border-collapse:collapse;font-size:12px;width:100%}
td{border-top:1px solid #f1f5f9;padding:2px 6px;vertical-align:top;overflow-wrap:anywhere}
svg{display:block;width:100%;height:auto}
.none{color:#15803d;font-weight:600}
"""


def _x(at: float, lo: float, hi: float) -> float:
    return PAD_L + (W - PAD_L - PAD_R) * ((at - lo) / (hi - lo) if hi > lo else 0)


def _y(pct: float, top: float = 100.0) -> float:
    return PAD_T + (H - PAD_T - PAD_B) * (1 - max(0.0, min(pct, top)) / top)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _axis(lo: float, hi: float, top_label: str) -> str:
    days = []
    span = hi - lo
    step = 86400 * (7 if span > 86400 * 20 else 1)
    first = lo - lo % 86400 + 86400
    at = first
    while at < hi:
        x = _x(at, lo, hi)
        days.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T}" y2="{H - PAD_B}" stroke="#e2e8f0"/>'
            f'<text x="{x:.1f}" y="{H - 6}" font-size="10" text-anchor="middle" fill="#64748b">'
            f"{datetime.fromtimestamp(at):%d %b}</text>"
        )
        at += step
    return (
        "".join(days)
        + f'<text x="4" y="{PAD_T + 8}" font-size="10" fill="#64748b">{escape(top_label)}</text>'
        + f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{H - PAD_B}" y2="{H - PAD_B}" '
        'stroke="#94a3b8"/>'
    )


def window_chart(window: str, points: Sequence[Sequence[Any]], lo: float, hi: float) -> str:
    """Used % over time, the limit as a dashed line, the unused area shaded."""
    if not points:
        return ""
    xy = [(_x(_ts(t), lo, hi), _y(float(p))) for t, p in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    limit_y = _y(100)
    unused = f"{xy[0][0]:.1f},{limit_y:.1f} " + line + f" {xy[-1][0]:.1f},{limit_y:.1f}"
    label = WINDOW_LABELS.get(window, window.replace("seven_day_", "Week of ").title())
    return (
        f'<div class="card"><b>{escape(label)}</b> <span class="sub">used % by hour; shaded: '
        "unused below the limit</span>"
        f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)} used over time">'
        + _axis(lo, hi, "100%")
        + f'<polygon class="unused" points="{unused}" fill="#fbbf24" fill-opacity="0.35"/>'
        + f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{limit_y:.1f}" y2="{limit_y:.1f}" '
        'stroke="#dc2626" stroke-dasharray="5 4"/>'
        + f'<polyline class="used" points="{line}" fill="none" stroke="#1d4ed8" '
        'stroke-width="1.5"/>' + "</svg></div>"
    )


def daily_chart(daily: Sequence[Mapping[str, Any]]) -> str:
    if not daily:
        return ""
    # Dollars at list price; tokens when no message had a price (an unknown model).
    unit = "usd" if any(d["person_usd"] or d["background_usd"] for d in daily) else "tokens"
    daily = [
        {**d, "person_usd": d[f"person_{unit}"], "background_usd": d[f"background_{unit}"]}
        for d in daily
    ]
    top = max(d["person_usd"] + d["background_usd"] for d in daily) or 1.0
    n = len(daily)
    bar = (W - PAD_L - PAD_R) / n
    bars = []
    for i, d in enumerate(daily):
        x = PAD_L + i * bar
        person_h = (H - PAD_T - PAD_B) * d["person_usd"] / top
        bg_h = (H - PAD_T - PAD_B) * d["background_usd"] / top
        base = H - PAD_B
        title = escape(
            f"{d['day']}: you {_money(d['person_usd'], unit)}, "
            f"background {_money(d['background_usd'], unit)}"
        )
        bars.append(
            f"<g><title>{title}</title>"
            f'<rect class="person" x="{x + 1:.1f}" y="{base - person_h:.1f}" width="{bar - 2:.1f}" '
            f'height="{person_h:.1f}" fill="#2563eb"/>'
            f'<rect class="background" x="{x + 1:.1f}" y="{base - person_h - bg_h:.1f}" '
            f'width="{bar - 2:.1f}" height="{bg_h:.1f}" fill="#a78bfa"/></g>'
        )
        if n <= 31 and i % max(1, n // 10) == 0:
            bars.append(
                f'<text x="{x + bar / 2:.1f}" y="{H - 6}" font-size="10" text-anchor="middle" '
                f'fill="#64748b">{escape(d["day"][5:])}</text>'
            )
    return (
        f'<div class="card"><b>Daily use {"at list price" if unit == "usd" else "in tokens"}'
        '</b> <span class="sub">'
        '<span style="color:#2563eb">■</span> you '
        '<span style="color:#a78bfa">■</span> background</span>'
        f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="daily use">'
        f'<text x="4" y="{PAD_T + 8}" font-size="10" fill="#64748b">{_money(top, unit)}</text>'
        + "".join(bars)
        + "</svg></div>"
    )


def _money(value: float, unit: str) -> str:
    if unit == "usd":
        return f"${value:,.2f}"
    return f"{value / 1e6:,.1f}M tokens" if value >= 1e5 else f"{value:,.0f} tokens"


def resets_chart(resets: Sequence[Mapping[str, Any]], lo: float, hi: float) -> str:
    shown = [r for r in resets if r.get("resets_at") and r.get("unused_pct") is not None]
    if not shown:
        return ""
    marks = []
    for r in shown:
        x = _x(_ts(r["resets_at"]), lo, hi)
        y = _y(float(r["unused_pct"]))
        colour = "#d97706" if r["window"] == "seven_day" else "#94a3b8"
        width = 6 if r["window"] == "seven_day" else 2
        title = escape(f"{r['window']} reset {r['resets_at']}: {r['unused_pct']:.0f}% unused")
        marks.append(
            f'<rect class="waste" x="{x - width / 2:.1f}" y="{y:.1f}" width="{width}" '
            f'height="{H - PAD_B - y:.1f}" fill="{colour}"><title>{title}</title></rect>'
        )
    return (
        '<div class="card"><b>Unused at each reset</b> <span class="sub">'
        '<span style="color:#d97706">■</span> week <span style="color:#94a3b8">■</span> 5-hour'
        "</span>"
        f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="unused at each reset">'
        + _axis(lo, hi, "100%")
        + "".join(marks)
        + "</svg></div>"
    )


def heatmap_chart(grid: Sequence[Sequence[float]]) -> str:
    if not grid:
        return ""
    top = max((m for row in grid for m in row), default=0.0) or 1.0
    cell_w, cell_h, left = (W - 50) / 24, 18, 44
    cells = []
    for d, row in enumerate(grid):
        name = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d]
        cells.append(
            f'<text x="4" y="{d * cell_h + 13}" font-size="11" fill="#475569">{name}</text>'
        )
        for h, minutes in enumerate(row):
            alpha = 0.06 + 0.94 * (minutes / top) if minutes else 0.03
            cells.append(
                f'<rect class="cell" x="{left + h * cell_w:.1f}" y="{d * cell_h}" '
                f'width="{cell_w - 1:.1f}" height="{cell_h - 1}" fill="#2563eb" '
                f'fill-opacity="{alpha:.2f}"><title>{name} {h:02d}:00 '
                f"{minutes:.0f} min</title></rect>"
            )
    for h in range(0, 24, 3):
        cells.append(
            f'<text x="{left + h * cell_w:.1f}" y="{7 * cell_h + 12}" font-size="10" '
            f'fill="#64748b">{h:02d}</text>'
        )
    height = 7 * cell_h + 16
    return (
        '<div class="card"><b>When agents waited for you</b> <span class="sub">minutes by '
        "weekday and hour</span>"
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="attention heatmap">'
        + "".join(cells)
        + "</svg></div>"
    )


def amount_text(amount: Mapping[str, Any]) -> str:
    parts = []
    if amount.get("pct") is not None:
        parts.append(f"{amount['pct']:g}% of {amount.get('window') or 'a window'}")
    if amount.get("usd") is not None:
        parts.append(f"${amount['usd']:,.2f}")
    if amount.get("tokens") is not None:
        parts.append(f"{amount['tokens']:,} tokens")
    if amount.get("minutes") is not None:
        parts.append(f"{amount['minutes']:,.0f} min")
    if amount.get("count") is not None:
        parts.append(f"×{amount['count']}")
    return " · ".join(parts)


def finding_card(f: Mapping[str, Any]) -> str:
    where = f.get("where") or {}
    places = [
        *where.get("sessions", []),
        *(f"task #{t}" for t in where.get("tasks", [])),
        *where.get("projects", []),
        *where.get("hours", []),
    ]
    evidence = "".join(
        f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>"
        for k, v in (f.get("evidence") or [])
    )
    colour = AREA_COLOURS.get(f.get("area", ""), "#64748b")
    source = "the model's" if f.get("source") == "model" else "computed"
    return (
        f'<div class="card finding" style="--c:{colour}">'
        f"<h3>{escape(f['title'])}</h3>"
        f'<span class="tag">{escape(f["area"])}</span><span class="tag">{escape(f["sure"])}'
        f' ({f["confidence"]:.0%})</span><span class="tag">{source}</span>'
        f'<span class="tag">{escape(amount_text(f.get("amount") or {}))}</span>'
        f"<p>{escape(f['detail'])}</p>"
        + (f'<p class="sub">Where: {escape("; ".join(places))}</p>' if places else "")
        + f'<div class="change">{escape(f["suggestion"])}</div>'
        + (f"<table>{evidence}</table>" if evidence else "")
        + "</div>"
    )


def render(review: Mapping[str, Any], title: str = "podium review") -> str:
    lo, hi = _ts(review["since"]), _ts(review["now"])
    series = review.get("series") or {}
    order = sorted(series, key=lambda w: (w != "five_hour", w != "seven_day", w))
    findings = review.get("findings") or []
    cards = "".join(finding_card(f) for f in findings) or (
        '<div class="card none">No finding: nothing in the log of this period stands out.</div>'
    )
    problems = "".join(
        f'<div class="card">Not checked: {escape(p)}</div>' for p in review.get("problems") or []
    )
    charts = (
        "".join(window_chart(w, series[w], lo, hi) for w in order)
        + daily_chart(review.get("daily") or [])
        + resets_chart(review.get("resets") or [], lo, hi)
        + heatmap_chart(review.get("attention_heatmap") or [])
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f'<div class="sub">{escape(review["since"][:16])} – {escape(review["now"][:16])} UTC · '
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''}</div>"
        f'<div class="grid"><section><h2>Findings</h2>{problems}{cards}</section>'
        f"<section><h2>Evidence</h2>{charts}</section></div>"
        "</main></body></html>\n"
    )
