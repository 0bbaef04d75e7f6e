"""Small inline SVG charts for the operator page: no script, no build step, readable in any browser."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def share_bars(days: Sequence[tuple[str, float | None]], width: int = 84, height: int = 20) -> str:
    """One bar per day, its height the share (0..1); a day without attempts is a grey tick."""
    if not days:
        return ""
    step = width / len(days)
    parts = []
    for i, (day, share) in enumerate(days):
        x = i * step + 1
        if share is None:
            parts.append(f'<rect x="{x:.1f}" y="{height - 2}" width="{step - 2:.1f}" height="2" fill="#bbb"><title>{escape(day)}: no attempts</title></rect>')
            continue
        h = max(1.0, share * height)
        colour = "#2e7d32" if share >= 0.8 else "#f9a825" if share >= 0.5 else "#c62828"
        parts.append(
            f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{step - 2:.1f}" height="{h:.1f}" fill="{colour}"><title>{escape(day)}: {share:.0%} ok</title></rect>'
        )
    label = escape(", ".join(f"{d}: {'-' if s is None else f'{s:.0%}'}" for d, s in days))
    return f'<svg class="bars" width="{width}" height="{height}" role="img" aria-label="{label}">{"".join(parts)}</svg>'


def line(points: Sequence[tuple[str, float]], width: int = 320, height: int = 80, label: str = "") -> str:
    """A line through the values in order, with its low and high written beside it."""
    if not points:
        return f'<p class="empty">{escape(label)}: no data</p>'
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    pad = 4
    step = (width - 2 * pad) / max(1, len(points) - 1)
    coords = " ".join(f"{pad + i * step:.1f},{pad + (height - 2 * pad) * (1 - (v - low) / span):.1f}" for i, v in enumerate(values))
    last_x, last_y = coords.rsplit(" ", 1)[-1].split(",")
    first, last = points[0][0], points[-1][0]
    summary = f"{label}: {len(points)} points from {first} to {last}, low {low:,.2f}, high {high:,.2f}"
    return (
        f'<figure><svg class="line" width="{width}" height="{height}" role="img" aria-label="{escape(summary)}">'
        f'<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="{coords}"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2.5" fill="#1565c0"/></svg>'  # the newest value; a lone point is visible
        f"<figcaption>{escape(label)}: {values[-1]:,.2f} now; low {low:,.2f}, high {high:,.2f}; {escape(first)} to {escape(last)}</figcaption></figure>"
    )
