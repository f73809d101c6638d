"""Charts as inline SVG, rendered on the server. Pure functions: data in, markup out.

No scripts, no external fonts or styles. A suppressed value (``"<5"``, ``"x"``) is drawn
as a dashed outline at a fixed small height with its label, never at its true size.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["bar_chart", "hbar_chart", "grouped_hbar_chart"]

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif"
COLOURS = ("#2f6690", "#d1495b", "#3a7d44", "#edae49")


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".") + unit
    return str(value)


def _scale(values: Sequence[Any], max_value: float | None) -> float:
    nums = [v for v in (_num(x) for x in values) if v is not None]
    top = max_value if max_value is not None else max(nums, default=0.0)
    return top if top > 0 else 1.0


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Any],
    *,
    unit: str = "",
    max_value: float | None = None,
    width: int = 720,
    height: int = 260,
) -> str:
    """Vertical bars (e.g. reports by month)."""
    n = max(len(values), 1)
    top = _scale(values, max_value)
    left, bottom, head = 40, 46, 44
    plot_h = height - bottom - head
    step = (width - left - 10) / n
    bar_w = max(step * 0.7, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="600">{escape(title)}</text>',
        f'<line x1="{left}" y1="{head + plot_h}" x2="{width - 10}" y2="{head + plot_h}" '
        'stroke="#888"/>',
    ]
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + k * step + (step - bar_w) / 2
        v = _num(value)
        if v is None:
            h = 6
            parts.append(
                f'<rect x="{x:.1f}" y="{head + plot_h - h}" width="{bar_w:.1f}" height="{h}" '
                'fill="none" stroke="#999" stroke-dasharray="3 2"/>'
            )
        else:
            h = plot_h * v / top
            parts.append(
                f'<rect x="{x:.1f}" y="{head + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(label)}: '
                f"{escape(_fmt(value, unit))}</title></rect>"
            )
            h = max(h, 0)
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{head + plot_h - h - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{escape(_fmt(value, unit))}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{head + plot_h + 16}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Any],
    *,
    unit: str = "",
    max_value: float | None = None,
    width: int = 720,
    row: int = 20,
    label_width: int = 220,
) -> str:
    """Horizontal bars (e.g. reports by commune)."""
    return grouped_hbar_chart(
        title, labels, [("", list(values))], unit=unit, max_value=max_value, width=width,
        row=row, label_width=label_width,
    )  # fmt: skip


def grouped_hbar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any]]],
    *,
    unit: str = "",
    max_value: float | None = None,
    width: int = 720,
    row: int = 20,
    label_width: int = 220,
) -> str:
    """Horizontal bars, one group per label and one bar per series (with a legend)."""
    all_values = [v for _, vals in series for v in vals]
    top = _scale(all_values, max_value)
    legend = 22 if len(series) > 1 else 0
    head = 30 + legend
    group_h = row * len(series) + 6
    height = head + group_h * max(len(labels), 1) + 10
    plot_w = width - label_width - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-size="15" font-weight="600">{escape(title)}</text>',
    ]
    if legend:
        x = 0
        for s, (name, _vals) in enumerate(series):
            colour = COLOURS[s % len(COLOURS)]
            parts.append(f'<rect x="{x}" y="28" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{x + 16}" y="38" font-size="12">{escape(name)}</text>')
            x += 24 + 8 * len(name)
    for k, label in enumerate(labels):
        y0 = head + k * group_h
        parts.append(
            f'<text x="{label_width - 6}" y="{y0 + group_h / 2 + 4:.1f}" font-size="12" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for s, (_name, vals) in enumerate(series):
            value = vals[k]
            y = y0 + s * row + 3
            v = _num(value)
            if v is None:
                w = 8.0
                parts.append(
                    f'<rect x="{label_width}" y="{y}" width="{w}" height="{row - 4}" '
                    'fill="none" stroke="#999" stroke-dasharray="3 2"/>'
                )
            else:
                w = plot_w * v / top
                parts.append(
                    f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{row - 4}" '
                    f'fill="{COLOURS[s % len(COLOURS)]}"/>'
                )
            parts.append(
                f'<text x="{label_width + w + 4:.1f}" y="{y + row - 8}" font-size="11">'
                f"{escape(_fmt(value, unit))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
