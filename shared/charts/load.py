"""Load against capacity, per work center: a bar chart of one work center and a heat map of all.

Pure functions: buckets in, SVG text out. Loads and capacities are in minutes; the charts show hours
or a utilisation percentage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

from shared.charts.svg import Svg, fmt, nice_ticks, text_width, tick_label, truncate

LOAD_COLOR = "#4e79a7"
OVERLOAD_COLOR = "#d62728"
CAPACITY_COLOR = "#222222"
GRID_COLOR = "#e3e3e3"
AXIS_COLOR = "#555555"

#: Heat-map classes: utilisation below 85 %, up to 100 %, above 100 %, and no capacity or no data.
GREEN = "#4caf50"
AMBER = "#f5b400"
RED = OVERLOAD_COLOR
EMPTY = "#ececec"
AMBER_FROM = 0.85

#: In percent mode the axis stops here; taller bars are clipped (their tooltip tells the true value).
PERCENT_AXIS_CAP = 300.0


@dataclass(frozen=True, slots=True)
class LoadBucket:
    """The load on a work center in one time bucket (a day, a week, a shift), in minutes."""

    start: date
    label: str
    load_minutes: float
    capacity_minutes: float

    @property
    def utilisation(self) -> float | None:
        """Load over capacity (1.0 is full); ``inf`` for load without capacity, ``None`` for neither."""
        if self.capacity_minutes > 0:
            return self.load_minutes / self.capacity_minutes
        return math.inf if self.load_minutes > 0 else None

    @property
    def overloaded(self) -> bool:
        return self.load_minutes > self.capacity_minutes + 1e-9


def _pct(utilisation: float | None) -> str:
    if utilisation is None:
        return "–"
    if math.isinf(utilisation):
        return "no capacity"
    return f"{utilisation * 100:.0f} %"


def _hours(minutes: float) -> str:
    return f"{minutes / 60:.1f} h"


def bottleneck(buckets: list[LoadBucket]) -> LoadBucket | None:
    """The bucket with the highest utilisation (the first of equals), ``None`` when nothing is loaded."""
    best: LoadBucket | None = None
    best_util = -1.0
    for bucket in buckets:
        util = bucket.utilisation
        if util is not None and bucket.load_minutes > 0 and util > best_util:
            best, best_util = bucket, util
    return best


def _legend(svg: Svg, x: float, y: float) -> None:
    items = (
        ("Load", LOAD_COLOR, "box"),
        ("Overload", OVERLOAD_COLOR, "box"),
        ("Capacity", CAPACITY_COLOR, "line"),
    )
    for name, color, kind in items:
        if kind == "box":
            svg.rect(x, y - 9, 12, 10, fill=color)
        else:
            svg.line(x, y - 4, x + 14, y - 4, stroke=color, stroke_width=2)
        svg.text(x + 18, y, name, fill="#333333")
        x += 18 + text_width(name, 11) + 16


def load_chart_svg(
    work_center: str,
    buckets: list[LoadBucket],
    *,
    axis: Literal["hours", "percent"] = "hours",
    width: float = 900,
    height: float = 360,
) -> str:
    """Load bars per bucket (red where load exceeds capacity) with capacity as a step line.

    ``axis="hours"`` plots load and capacity in hours; ``axis="percent"`` plots utilisation, the
    capacity line then being 100 %. Buckets are drawn in date order; up to a few hundred read well
    (bars get thin, bucket labels sparse).
    """
    ordered = sorted(buckets, key=lambda b: b.start)
    peak = bottleneck(ordered)
    title = f"Load — {work_center}"
    if peak is not None:
        title += f" · bottleneck {peak.label} ({_pct(peak.utilisation)})"
    elif ordered:
        title += " · no load"
    svg = Svg(width, height, title=title)
    left, right, top, bottom = 58.0, 16.0, 52.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    svg.text(left - 50, 20, truncate(title, width - 16, 14), font_size=14, font_weight="bold", fill="#222222")
    _legend(svg, left, 40)

    if not ordered:
        svg.text(left + plot_w / 2, top + plot_h / 2, "No buckets", text_anchor="middle", fill=AXIS_COLOR)
        return svg.render()

    if axis == "percent":
        values = []
        for b in ordered:
            util = b.utilisation
            values.append(0.0 if util is None else util * 100)  # inf (no capacity): clipped at the top
        top_value = min(max([v for v in values if not math.isinf(v)] + [110.0]), PERCENT_AXIS_CAP)
        capacities = [100.0] * len(ordered)
        caption = "utilisation %"
    else:
        values = [b.load_minutes / 60 for b in ordered]
        capacities = [b.capacity_minutes / 60 for b in ordered]
        top_value = max([*values, *capacities, 0.0]) * 1.05
        caption = "hours"
    ticks = nice_ticks(top_value, 5)
    y_max = ticks[-1]

    def y_of(value: float) -> float:
        return top + plot_h - min(value, y_max) / y_max * plot_h

    # Grid and value axis.
    svg.open_group(stroke=GRID_COLOR, stroke_width=1)
    for tick in ticks:
        svg.line(left, y_of(tick), left + plot_w, y_of(tick))
    svg.close_group()
    svg.open_group(fill=AXIS_COLOR, text_anchor="end", font_size=10)
    for tick in ticks:
        svg.text(left - 6, y_of(tick) + 3.5, tick_label(tick))
    svg.close_group()
    svg.text(
        14, top + plot_h / 2, caption, fill=AXIS_COLOR, font_size=10, text_anchor="middle",
        transform=f"rotate(-90 14 {fmt(top + plot_h / 2)})",
    )  # fmt: skip

    # Bars: one rect per bucket.
    n = len(ordered)
    slot = plot_w / n
    bar_w = slot * 0.8 if slot >= 3 else slot
    svg.open_group(shape_rendering="crispEdges" if slot < 3 else None)
    for i, (bucket, value) in enumerate(zip(ordered, values, strict=True)):
        x = left + i * slot + (slot - bar_w) / 2
        y = y_of(value)
        tip = (
            f"{bucket.label}: {_hours(bucket.load_minutes)} of {_hours(bucket.capacity_minutes)}"
            f" ({_pct(bucket.utilisation)})"
        )
        svg.rect(
            x,
            y,
            bar_w,
            top + plot_h - y,
            fill=OVERLOAD_COLOR if bucket.overloaded else LOAD_COLOR,
            tooltip=tip,
        )
    svg.close_group()

    # Capacity as a step line over the bucket slots.
    steps = [f"M{fmt(left)} {fmt(y_of(capacities[0]))}"]
    for i, cap in enumerate(capacities):
        if i:
            steps.append(f"V{fmt(y_of(cap))}")
        steps.append(f"H{fmt(left + (i + 1) * slot)}")
    svg.path("".join(steps), fill="none", stroke=CAPACITY_COLOR, stroke_width=1.8, stroke_linejoin="round")

    # Category axis with sparse labels.
    svg.line(left, top + plot_h, left + plot_w, top + plot_h, stroke=AXIS_COLOR, stroke_width=1)
    labels = [truncate(b.label, 90, 10) for b in ordered]
    label_w = max(text_width(label, 10) for label in labels) + 12
    stride = max(1, math.ceil(n / max(1, int(plot_w // label_w))))
    svg.open_group(fill=AXIS_COLOR, text_anchor="middle", font_size=10)
    for i in range(0, n, stride):
        x = left + (i + 0.5) * slot
        svg.line(x, top + plot_h, x, top + plot_h + 4, stroke=AXIS_COLOR)
        svg.text(x, top + plot_h + 16, labels[i])
    svg.close_group()
    return svg.render()


def heat_color(utilisation: float | None) -> str:
    """The heat-map class colour: green below 85 %, amber up to 100 %, red above, grey for no capacity."""
    if utilisation is None:
        return EMPTY
    if utilisation > 1.0 + 1e-9:
        return RED
    if utilisation >= AMBER_FROM:
        return AMBER
    return GREEN


def load_overview_svg(
    rows: dict[str, list[LoadBucket]],
    *,
    title: str = "Load overview — utilisation by work center",
    width: float = 900,
) -> str:
    """A heat map, work center × bucket, of utilisation with a colour scale.

    Columns are the distinct bucket start dates over all rows, in order; a work center without a
    bucket at a date shows an empty (grey) cell.
    """
    columns: dict[date, str] = {}
    for buckets in rows.values():
        for bucket in buckets:
            columns.setdefault(bucket.start, bucket.label)
    starts = sorted(columns)
    names = list(rows)
    row_h = max(12.0, min(26.0, 520 / max(len(names), 1)))
    left = min(180.0, max([text_width(name, 11) for name in names] + [40.0]) + 14)
    right, top = 16.0, 40.0
    plot_w = width - left - right
    plot_h = row_h * len(names)
    height = top + plot_h + 24 + 36
    svg = Svg(width, height, title=title)
    svg.text(8, 22, truncate(title, width - 16, 14), font_size=14, font_weight="bold", fill="#222222")

    if not names or not starts:
        svg.text(width / 2, top + 20, "No buckets", text_anchor="middle", fill=AXIS_COLOR)
        return svg.render()

    cell_w = plot_w / len(starts)
    show_values = cell_w >= 34 and row_h >= 14
    index = {start: i for i, start in enumerate(starts)}
    svg.open_group(stroke="#ffffff", stroke_width=0.5 if cell_w >= 3 else 0, shape_rendering="crispEdges")
    texts: list[tuple[float, float, str, str]] = []
    for r, name in enumerate(names):
        y = top + r * row_h
        seen = {bucket.start: bucket for bucket in rows[name]}
        for start in starts:
            x = left + index[start] * cell_w
            cell = seen.get(start)
            if cell is None:
                svg.rect(x, y, cell_w, row_h, fill=EMPTY, tooltip=f"{name} · {columns[start]}: no data")
                continue
            util = cell.utilisation
            color = heat_color(util)
            tip = (
                f"{name} · {cell.label}: {_pct(util)}"
                f" ({_hours(cell.load_minutes)} of {_hours(cell.capacity_minutes)})"
            )
            svg.rect(x, y, cell_w, row_h, fill=color, tooltip=tip)
            if show_values and util is not None and not math.isinf(util):
                texts.append((x + cell_w / 2, y + row_h / 2 + 3.5, f"{util * 100:.0f}", color))
    svg.close_group()
    svg.open_group(text_anchor="middle", font_size=9)
    for x, y, value, color in texts:
        svg.text(x, y, value, fill="#111111" if color != RED else "#ffffff")
    svg.close_group()

    svg.open_group(text_anchor="end", fill="#333333")
    for r, name in enumerate(names):
        svg.text(left - 6, top + r * row_h + row_h / 2 + 4, truncate(name, left - 12, 11))
    svg.close_group()

    labels = [truncate(columns[start], 90, 10) for start in starts]
    label_w = max(text_width(label, 10) for label in labels) + 12
    stride = max(1, math.ceil(len(starts) / max(1, int(plot_w // label_w))))
    svg.open_group(fill=AXIS_COLOR, text_anchor="middle", font_size=10)
    for i in range(0, len(starts), stride):
        svg.text(left + (i + 0.5) * cell_w, top + plot_h + 14, labels[i])
    svg.close_group()

    # The scale.
    x, y = left, top + plot_h + 40
    svg.text(x, y, "Utilisation:", fill="#333333")
    x += text_width("Utilisation:", 11) + 10
    for color, name in (
        (GREEN, "< 85 %"),
        (AMBER, "85–100 %"),
        (RED, "> 100 %"),
        (EMPTY, "no capacity / no data"),
    ):
        svg.rect(
            x, y - 10, 14, 12, fill=color, stroke="#bbbbbb" if color == EMPTY else None, stroke_width=0.5
        )
        svg.text(x + 19, y, name, fill="#333333")
        x += 19 + text_width(name, 11) + 18
    return svg.render()
