"""Charts as inline SVG, drawn on the server: no script, no style attribute (the pages' CSP
allows neither), readable without colour (every bar carries its number as text).

Each function returns markup ready to embed (`markupsafe.Markup`), every label escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

INK = "#1b1b1b"
MUTED = "#5c5c5c"
GRID = "#d0d0d0"
COLOURS = ("#1f5fa8", "#2e8540", "#b35900")  # blue, green, orange: distinct in greyscale too
FONT = 'font-family="sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is written beside the bar ("85%", "12")


def horizontal_bars(
    bars: Sequence[Bar], *, title: str, chart_id: str, maximum: float | None = None
) -> Markup:
    """One bar per row, its label on the left and its number at its end (the league table)."""
    row, label_w, bar_w, pad = 26, 190, 300, 8
    height = max(1, len(bars)) * row + 2 * pad
    width = label_w + bar_w + 70
    top = maximum if maximum is not None else max((b.value for b in bars), default=0) or 1
    parts = [_open(width, height, title, chart_id)]
    for i, bar in enumerate(bars):
        y = pad + i * row
        length = 0 if top <= 0 else max(0.0, min(1.0, bar.value / top)) * bar_w
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="{INK}" {FONT}>{escape(_short(bar.label, 28))}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{COLOURS[0]}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 17}" font-size="13" fill="{INK}" '
            f"{FONT}>{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def grouped_columns(
    labels: Sequence[str], series: Sequence[Series], *, title: str, chart_id: str
) -> Markup:
    """Columns per label (a month), one per series side by side, with a legend (the trend)."""
    left, bottom, top_pad, plot_h = 36, 34, 28, 180
    group_w = 44
    width = left + max(1, len(labels)) * group_w + 10
    height = top_pad + plot_h + bottom
    peak = max((v for s in series for v in s.values), default=0)
    scale = _nice(peak)
    parts = [_open(width, height, title, chart_id)]
    for step in range(5):
        value = scale * step / 4
        y = top_pad + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 6}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{MUTED}" {FONT}>{value:g}</text>'
        )
    column_w = (group_w - 8) / max(1, len(series))
    for i, label in enumerate(labels):
        x0 = left + i * group_w + 4
        for j, one in enumerate(series):
            value = one.values[i] if i < len(one.values) else 0
            h = plot_h * value / scale if scale else 0
            x = x0 + j * column_w
            y = top_pad + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{column_w - 1:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(one.name)} '
                f"{escape(label)}: {value}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + (group_w - 8) / 2:.1f}" y="{top_pad + plot_h + 14}" '
            f'text-anchor="middle" font-size="11" fill="{INK}" {FONT}>{escape(label)}</text>'
        )
    for j, one in enumerate(series):
        x = left + j * 130
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text x="{x + 16}" y="16" font-size="12" fill="{INK}" {FONT}>'
            f"{escape(one.name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(width: float, height: float, title: str, chart_id: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-labelledby="{escape(chart_id)}-t" '
        f'preserveAspectRatio="xMinYMin meet" class="chart">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _nice(peak: float) -> float:
    """A round top for the axis: 10, 20, 50, 100, ... at least `peak`."""
    if peak <= 0:
        return 1
    magnitude = 1.0
    while magnitude * 10 < peak:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= peak:
            return step * magnitude
    return 10 * magnitude
