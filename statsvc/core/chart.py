"""The dashboard's chart of views and visits per day: geometry only, drawn as SVG by a
template (no script, no library: the page works under `default-src 'self'`), which also
writes its words, numbers and dates in the page's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 26  # room for the axis labels
INTERVALS = 4  # horizontal grid lines above zero
LABEL_EVERY = 5  # a date under every fifth day


@dataclass(frozen=True)
class Bar:
    """One day: its views bar, its visits bar inside it, and its figures (the tooltip)."""

    x: float
    width: float
    views_y: float
    views_height: float
    visits_x: float
    visits_width: float
    visits_y: float
    visits_height: float
    day: date
    views: int
    visits: int


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw the chart."""

    width: int
    height: int
    left: int
    right: int
    bottom: float
    bars: list[Bar]
    grid: list[tuple[float, int]]  # y, value
    dates: list[tuple[float, date]]  # x (middle), day
    views: int  # the sums of the days shown
    visits: int


def step_for(largest: int) -> int:
    """Return a round grid step (1, 2 or 5 times a power of ten) with INTERVALS steps
    covering `largest`."""
    need = max(1, -(-largest // INTERVALS))
    scale = 1
    while True:
        for factor in (1, 2, 5):
            if factor * scale >= need:
                return factor * scale
        scale *= 10


def chart(days: Sequence[dict[str, Any]]) -> Chart:
    """Lay out views and visits per day (series rows: date, views, visits) as bars."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    step = step_for(max((d["views"] for d in days), default=0))
    top = step * INTERVALS
    slot = plot_w / max(1, len(days))

    def y(value: int) -> float:
        return round(base - plot_h * value / top, 1)

    bars = []
    for n, d in enumerate(days):
        x = LEFT + n * slot
        views_y, visits_y = y(d["views"]), y(d["visits"])
        bars.append(
            Bar(
                x=round(x + slot * 0.1, 1),
                width=round(slot * 0.8, 1),
                views_y=views_y,
                views_height=round(base - views_y, 1),
                visits_x=round(x + slot * 0.3, 1),
                visits_width=round(slot * 0.4, 1),
                visits_y=visits_y,
                visits_height=round(base - visits_y, 1),
                day=date.fromisoformat(d["date"]),
                views=d["views"],
                visits=d["visits"],
            )
        )
    last = len(days) - 1
    dates = [
        (round(LEFT + (n + 0.5) * slot, 1), date.fromisoformat(d["date"]))
        for n, d in enumerate(days)
        if (last - n) % LABEL_EVERY == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        bottom=base,
        bars=bars,
        grid=[(y(step * k), step * k) for k in range(INTERVALS + 1)],
        dates=dates,
        views=sum(d["views"] for d in days),
        visits=sum(d["visits"] for d in days),
    )
