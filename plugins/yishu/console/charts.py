"""Charts drawn on the server as SVG (no script, no network): the quality trend of a source
and monthly usage. Labels are escaped; the markup goes into pages as it is."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from yishu.standard.quality import DIMENSION_ZH, DIMENSIONS

COLOURS = {"score": "#17335f", "conformity": "#1f77b4", "completeness": "#2ca02c",
           "accuracy": "#d62728", "consistency": "#9467bd", "timeliness": "#8c564b",
           "accessibility": "#e377c2"}
W, H, LEFT, RIGHT, TOP, BOTTOM = 860, 320, 48, 150, 16, 46


def _frame(title: str, y_max: float, ticks: list[float], fmt) -> list[str]:
    out = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for t in ticks:
        y = TOP + (H - TOP - BOTTOM) * (1 - t / y_max if y_max else 1)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#e3e7ee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{escape(fmt(t))}</text>')
    return out


def _x(i: int, n: int) -> float:
    span = W - LEFT - RIGHT
    return LEFT + (span / 2 if n == 1 else span * i / (n - 1))


def quality_trend(points: list[dict], title: str) -> Markup:
    """Lines of the score and the six indicators over partitions (0–100). `points` have
    `partition`, `score` and `dimensions` (indicator → value, possibly missing)."""
    out = _frame(title, 100, [0, 25, 50, 75, 100], lambda t: f"{t:.0f}")
    n = len(points)
    y = lambda v: TOP + (H - TOP - BOTTOM) * (1 - v / 100)  # noqa: E731
    for i, p in enumerate(points):
        label = escape(p["partition"])
        out.append(f'<text x="{_x(i, n):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">'
                   f'{label}</text>')
    series = [("score", "综合得分 score", [p.get("score") for p in points])]
    series += [(d, f"{DIMENSION_ZH[d]} {d}", [p.get("dimensions", {}).get(d) for p in points])
               for d in DIMENSIONS]
    for row, (key, label, values) in enumerate(series):
        colour, width = COLOURS[key], 3 if key == "score" else 1.5
        pts = [(_x(i, n), y(v)) for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in pts)
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" '
                       f'points="{path}"/>')
        for x, yy in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="{width + 1}" fill="{colour}"/>')
        _legend_entry(out, row, colour, label, top=-9, height=4, baseline=-3)
    if not points:
        out.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">暂无批次 no batches'
                   '</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _legend_entry(out: list[str], row: int, colour: str, label: str, *, top: int,
                  height: int, baseline: int) -> None:
    """One legend line right of the plot: a swatch (a line or a bar) and its label, placed
    relative to the line's row."""
    ly = TOP + 14 + row * 18
    out.append(f'<rect x="{W - RIGHT + 12}" y="{ly + top}" width="12" height="{height}" '
               f'fill="{colour}"/><text x="{W - RIGHT + 30}" y="{ly + baseline}">'
               f'{escape(label)}</text>')


def _nice(peak: float) -> int:
    """The axis top: the smallest 1, 2 or 5 × 10^k at or above the peak."""
    scale = 1
    while True:
        for m in (1, 2, 5):
            if m * scale >= peak:
                return m * scale
        scale *= 10


def monthly_bars(months: list[str], series: dict[str, list[float]], title: str,
                 unit: str) -> Markup:
    """Grouped bars per month, one colour per series (e.g. per operator)."""
    top = _nice(max([v for vals in series.values() for v in vals] + [0]))
    ticks = list(range(top + 1)) if top <= 4 else [top * f for f in (0, .25, .5, .75, 1)]
    out = _frame(title, top, ticks, lambda t: f"{t:,.0f}" if top > 4 else f"{t:g}")
    palette = list(COLOURS.values())[1:] + ["#17becf", "#bcbd22"]
    span = (W - LEFT - RIGHT) / max(len(months), 1)
    bar = min(span * 0.8 / max(len(series), 1), 60)
    for m, month in enumerate(months):
        x0 = LEFT + m * span + (span - bar * len(series)) / 2
        out.append(f'<text x="{LEFT + (m + 0.5) * span:.1f}" y="{H - BOTTOM + 16}" '
                   f'text-anchor="middle">{escape(month)}</text>')
        for s, values in enumerate(series.values()):
            v = values[m]
            height = (H - TOP - BOTTOM) * v / top
            out.append(f'<rect x="{x0 + s * bar:.1f}" y="{H - BOTTOM - height:.1f}" '
                       f'width="{bar * 0.9:.1f}" height="{height:.1f}" '
                       f'fill="{palette[s % len(palette)]}"><title>{escape(month)}: '
                       f'{v:,.0f} {escape(unit)}</title></rect>')
    for s, name in enumerate(series):
        _legend_entry(out, s, palette[s % len(palette)], name, top=-10, height=10,
                      baseline=-1)
    if not months:
        out.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">暂无交付 no deliveries'
                   '</text>')
    out.append("</svg>")
    return Markup("".join(out))
