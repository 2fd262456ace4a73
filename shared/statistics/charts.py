"""Charts as inline SVG, drawn on the server: no script, no style attribute (the pages' CSP
allows neither), readable without colour (every bar carries its number as text).

Each function returns markup ready to embed (`markupsafe.Markup`): every fragment is a literal
template whose values `Markup.format` escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

INK = "#1b1b1b"
MUTED = "#5c5c5c"
GRID = "#d0d0d0"
COLOURS = ("#1f5fa8", "#2e8540", "#b35900")  # blue, green, orange: distinct in greyscale too
MIN_GROUPS = 12  # columns are as wide as in a year's chart, however few the months

_OPEN = Markup(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" width="100%" '
    'role="img" aria-labelledby="{id}-t" preserveAspectRatio="xMinYMin meet" class="chart">'
    '<title id="{id}-t">{title}</title>'
)
_CLOSE = Markup("</svg>")
_ROW = Markup(
    '<text x="{lx}" y="{ty}" text-anchor="end" font-size="17" fill="{ink}" '
    'font-family="sans-serif">{label}</text>'
    '<rect x="{bx}" y="{by}" width="{length:.1f}" height="{bh}" fill="{fill}">'
    "<title>{full}: {text}</title></rect>"
    '<text x="{tx:.1f}" y="{ty}" font-size="17" fill="{ink}" font-family="sans-serif">'
    "{text}</text>"
)
_GRIDLINE = Markup(
    '<line x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}" stroke="{grid}"/>'
    '<text x="{tx}" y="{ty:.1f}" text-anchor="end" font-size="15" fill="{muted}" '
    'font-family="sans-serif">{value}</text>'
)
_COLUMN = Markup(
    '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}">'
    "<title>{name} {label}: {value}</title></rect>"
)
_AXIS_LABEL = Markup(
    '<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="15" fill="{ink}" '
    'font-family="sans-serif">{first}<tspan x="{x:.1f}" dy="17">{second}</tspan></text>'
)
_LEGEND = Markup(
    '<rect x="{x}" y="6" width="16" height="16" fill="{fill}"/>'
    '<text x="{tx}" y="20" font-size="17" fill="{ink}" font-family="sans-serif">{name}</text>'
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is written beside the bar ("85%", "12")


def horizontal_bars(
    bars: Sequence[Bar], *, title: str, chart_id: str, maximum: float | None = None
) -> Markup:
    """One bar per row, its label on the left and its number at its end (the league table)."""
    row, label_w, bar_w, pad = 32, 175, 290, 8
    height = max(1, len(bars)) * row + 2 * pad
    width = label_w + bar_w + 70
    top = maximum if maximum is not None else max((b.value for b in bars), default=0) or 1
    parts = [_OPEN.format(w=width, h=height, id=chart_id, title=title)]
    for i, bar in enumerate(bars):
        y = pad + i * row
        length = max(0.0, min(1.0, bar.value / top)) * bar_w if top > 0 else 0.0
        parts.append(
            _ROW.format(
                lx=label_w - 6,
                ty=y + 22,
                ink=INK,
                label=_short(bar.label, 16),
                bx=label_w,
                by=y + 4,
                length=length,
                bh=row - 8,
                fill=COLOURS[0],
                full=bar.label,
                text=bar.text,
                tx=label_w + length + 6,
            )
        )
    parts.append(_CLOSE)
    return Markup("").join(parts)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def grouped_columns(
    labels: Sequence[str], series: Sequence[Series], *, title: str, chart_id: str
) -> Markup:
    """Columns per label (a month), one per series side by side, with a legend (the trend).

    A label's first word and the rest go on two lines (`Mei` over `26`): a year of months
    stays legible on a phone's width."""
    left, bottom, top_pad, plot_h, group_w = 44, 44, 36, 220, 44
    width = left + max(MIN_GROUPS, len(labels)) * group_w + 10  # a few months: no giant bars
    height = top_pad + plot_h + bottom
    scale = _nice(max((v for s in series for v in s.values), default=0))
    parts = [_OPEN.format(w=width, h=height, id=chart_id, title=title)]
    for step in range(6):
        y = top_pad + plot_h - plot_h * step / 5
        parts.append(
            _GRIDLINE.format(
                x1=left,
                x2=width - 6,
                y=y,
                grid=GRID,
                tx=left - 4,
                ty=y + 4,
                muted=MUTED,
                value=f"{scale * step / 5:g}",
            )
        )
    column_w = (group_w - 8) / max(1, len(series))
    for i, label in enumerate(labels):
        x0 = left + i * group_w + 4
        for j, one in enumerate(series):
            value = one.values[i] if i < len(one.values) else 0
            h = plot_h * value / scale
            parts.append(
                _COLUMN.format(
                    x=x0 + j * column_w,
                    y=top_pad + plot_h - h,
                    w=column_w - 1,
                    h=h,
                    fill=COLOURS[j % len(COLOURS)],
                    name=one.name,
                    label=label,
                    value=value,
                )
            )
        first, _, second = label.partition(" ")
        parts.append(
            _AXIS_LABEL.format(
                x=x0 + (group_w - 8) / 2,
                y=top_pad + plot_h + 18,
                ink=INK,
                first=first,
                second=second,
            )
        )
    for j, one in enumerate(series):
        parts.append(
            _LEGEND.format(
                x=left + j * 190,
                tx=left + j * 190 + 22,
                fill=COLOURS[j % len(COLOURS)],
                ink=INK,
                name=one.name,
            )
        )
    parts.append(_CLOSE)
    return Markup("").join(parts)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _nice(peak: float) -> float:
    """A round top for the axis, at least `peak`: 5, 10, 20, 50, 100, ... (a fifth of it, the
    grid's step, is a whole number)."""
    if peak <= 5:
        return 5
    magnitude = 1.0
    while magnitude * 10 < peak:
        magnitude *= 10
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= peak)
