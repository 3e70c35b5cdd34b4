"""Gantt charts of a schedule: one lane per machine, one ``<rect>`` per bar.

Times are either minutes from the start of an explicit solve (floats) or datetimes (a stored
schedule). Both are turned into minutes from an origin; with an origin (or datetime bars) the axis
shows dates and hours, otherwise minutes. Pure functions: bars in, SVG text or a dict out.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.charts.svg import (
    Svg,
    contrast_text,
    element,
    esc,
    fmt,
    nice_step,
    text_width,
    tick_label,
    truncate,
)

BarKind = Literal["run", "setup", "downtime", "frozen"]
Time = float | datetime

#: A qualitative palette (Tableau 20 order, darker shades first); a job's colour comes from a hash.
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#b6992d", "#499894", "#e15759", "#b07aa1", "#9d7660",
    "#d37295", "#17becf", "#a0cbe8", "#ffbe7d", "#8cd17d", "#f1ce63", "#86bcb6", "#ff9d9a",
    "#d4a6c8", "#d7b5a6", "#fabfd2", "#9467bd",
)  # fmt: skip
DOWNTIME_COLOR = "#9e9e9e"
FROZEN_STROKE = "#1a1a1a"
LATE_COLOR = "#d62728"
AXIS_COLOR = "#555555"
GRID_COLOR = "#e6e6e6"
MAX_LEGEND_JOBS = 20

_MINUTE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 10080, 20160, 40320)
_CLOCK_STEPS = (15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 10080, 20160, 40320)


@dataclass(frozen=True, slots=True)
class GanttBar:
    """One operation (or setup, or downtime) on one lane; times are minutes or datetimes."""

    lane: str
    job: str
    operation: str
    start: Time
    end: Time
    kind: BarKind = "run"
    late: bool = False


@dataclass(frozen=True, slots=True)
class DueMark:
    """A job's due time, drawn as a marker on the lanes the job uses (or on ``lane`` alone)."""

    job: str
    due: Time
    lane: str | None = None


def job_color(job: str) -> str:
    """A stable colour for a job id (the same in every chart and every process)."""
    return PALETTE[zlib.crc32(job.encode("utf-8")) % len(PALETTE)]


def job_colors(jobs: Iterable[str]) -> dict[str, str]:
    """Colours for the jobs of one chart: :func:`job_color`, except that up to 20 jobs get distinct ones.

    When two of at most 20 jobs hash to the same colour, the later (in id order) takes the next free
    palette colour, so the result depends only on the set of job ids, not on the order of the bars.
    """
    distinct = sorted(set(jobs))
    if len(distinct) > len(PALETTE):
        return {job: job_color(job) for job in distinct}
    taken: set[int] = set()
    colors: dict[str, str] = {}
    for job in distinct:
        index = zlib.crc32(job.encode("utf-8")) % len(PALETTE)
        while index in taken:
            index = (index + 1) % len(PALETTE)
        taken.add(index)
        colors[job] = PALETTE[index]
    return colors


def _lanes(bars: Iterable[GanttBar]) -> list[str]:
    return list(dict.fromkeys(bar.lane for bar in bars))


def _origin(bars: Sequence[GanttBar], marks: Sequence[DueMark], origin: datetime | None) -> datetime | None:
    if origin is not None:
        return origin
    times = [t for bar in bars for t in (bar.start, bar.end) if isinstance(t, datetime)]
    times += [m.due for m in marks if isinstance(m.due, datetime)]
    return min(times) if times else None


def _minutes(value: Time, origin: datetime | None) -> float:
    if isinstance(value, datetime):
        if origin is None:  # pragma: no cover - _origin() gives one whenever a datetime is present
            raise ValueError("a datetime needs an origin")
        return (value - origin) / timedelta(minutes=1)
    return float(value)


def _step(span: float, steps: Sequence[int], max_ticks: int) -> int:
    for step in steps:
        if span / step <= max_ticks:
            return step
    return steps[-1] * math.ceil(span / steps[-1] / max_ticks)


def _clock_ticks(origin: datetime, lo: float, hi: float, max_ticks: int) -> list[tuple[float, str, bool]]:
    """Ticks at round clock times: ``(minutes, label, starts_a_day)``; days labelled on their first tick."""
    step = _step(hi - lo, _CLOCK_STEPS, max_ticks)
    first = origin + timedelta(minutes=lo)
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    if step >= 10080:  # weeks: start on a Monday
        midnight -= timedelta(days=midnight.weekday())
    offset = (midnight - origin) / timedelta(minutes=1)
    k = math.ceil((lo - offset) / step - 1e-9)
    ticks: list[tuple[float, str, bool]] = []
    last_day = None
    while (minute := offset + k * step) <= hi + 1e-9:
        moment = origin + timedelta(minutes=minute)
        if step >= 1440:
            label, new_day = moment.strftime("%d %b"), True
        else:
            new_day = moment.date() != last_day
            label = moment.strftime("%a %d %b %H:%M") if new_day else moment.strftime("%H:%M")
        last_day = moment.date()
        ticks.append((minute, label, new_day))
        k += 1
    return ticks


def _minute_ticks(lo: float, hi: float, max_ticks: int) -> list[tuple[float, str, bool]]:
    span = hi - lo
    step: float = _step(span, _MINUTE_STEPS, max_ticks) if span >= 5 else nice_step(span, max_ticks)
    k = math.ceil(lo / step - 1e-9)
    ticks = []
    while (minute := k * step) <= hi + 1e-9:
        ticks.append((minute, tick_label(round(minute, 6)), False))
        k += 1
    return ticks


def _hatch_pattern(pattern_id: str, color: str) -> str:
    return element(
        "pattern",
        element("rect", width=6, height=6, fill=color, fill_opacity=0.3)
        + element("path", d="M0 6L6 0M-1 1L1 -1M5 7L7 5", stroke=color, stroke_width=1.6),
        id=pattern_id,
        patternUnits="userSpaceOnUse",
        width=6,
        height=6,
    )


def gantt_svg(
    bars: list[GanttBar],
    *,
    title: str,
    origin: datetime | None = None,
    due_marks: Sequence[DueMark] = (),
    width: float = 1200,
    tooltips: bool = True,
) -> str:
    """A Gantt chart: lanes in order of first appearance, bars coloured by job.

    Setups are hatched in the job colour, downtime grey, frozen bars outlined in black, late jobs'
    bars outlined in red with a red marker after their last bar. Labels go inside bars wide enough
    for them; a legend of jobs is drawn when there are at most 20.
    """
    marks = list(due_marks)
    base = _origin(bars, marks, origin)
    lanes = _lanes(bars)
    jobs = list(dict.fromkeys(bar.job for bar in bars if bar.kind != "downtime"))
    late_jobs = {bar.job for bar in bars if bar.late}
    colors = job_colors([*jobs, *(mark.job for mark in marks)])

    lane_h = max(14.0, min(34.0, 640 / max(len(lanes), 1)))
    left = min(170.0, max([text_width(lane, 11) for lane in lanes] + [40.0]) + 16)
    right, top = 24.0, 62.0 if base is not None else 48.0
    plot_w = width - left - right
    plot_h = lane_h * max(len(lanes), 1)
    legend_jobs = jobs if len(jobs) <= MAX_LEGEND_JOBS else []
    legend_rows = _legend_rows(legend_jobs, late_jobs, width - 16)
    height = top + plot_h + 14 + 22 * (1 + len(legend_rows))
    svg = Svg(width, height, title=title)
    svg.text(8, 22, truncate(title, width - 16, 14), font_size=14, font_weight="bold", fill="#222222")

    if not bars:
        svg.text(width / 2, top + plot_h / 2 + 4, "No bars", text_anchor="middle", fill=AXIS_COLOR)
        return svg.render()

    spans = [(_minutes(bar.start, base), _minutes(bar.end, base)) for bar in bars]
    due = [_minutes(mark.due, base) for mark in marks]
    lo = min([s for s, _ in spans] + due)
    hi = max([e for _, e in spans] + due)
    if hi - lo < 1e-9:
        hi = lo + 1
    scale = plot_w / (hi - lo)

    def x_of(minute: float) -> float:
        return left + (minute - lo) * scale

    max_ticks = max(2, int(plot_w // 110))
    ticks = _clock_ticks(base, lo, hi, max_ticks) if base is not None else _minute_ticks(lo, hi, max_ticks)

    # Lane backgrounds, grid and the time axis.
    svg.open_group(shape_rendering="crispEdges")
    for i in range(1, len(lanes), 2):
        svg.rect(left, top + i * lane_h, plot_w, lane_h, fill="#f6f6f6")
    svg.close_group()
    svg.open_group(stroke=GRID_COLOR, stroke_width=1)
    for minute, _, new_day in ticks:
        svg.line(x_of(minute), top, x_of(minute), top + plot_h, stroke="#c8c8c8" if new_day else None)
    svg.close_group()
    svg.open_group(fill=AXIS_COLOR, font_size=10, text_anchor="middle")
    for minute, label, _ in ticks:
        svg.text(x_of(minute), top - 8, label)
    svg.close_group()
    if base is None:
        svg.text(width - right, top - 22, "minutes", fill=AXIS_COLOR, font_size=10, text_anchor="end")
    svg.open_group(fill="#333333", text_anchor="end")
    for i, lane in enumerate(lanes):
        svg.text(left - 8, top + i * lane_h + lane_h / 2 + 4, truncate(lane, left - 14, 11))
    svg.close_group()
    svg.line(left, top, left, top + plot_h, stroke=AXIS_COLOR)

    # Bars: one rect each.
    lane_index = {lane: i for i, lane in enumerate(lanes)}
    pad = 2.0 if lane_h >= 18 else 1.0
    bar_h = lane_h - 2 * pad
    hatches: dict[str, str] = {}
    labels: list[tuple[float, float, str, str]] = []
    last_end: dict[str, tuple[float, int]] = {}
    svg.open_group(stroke_width=0.5, stroke="#ffffff")
    for bar, (start, end) in zip(bars, spans, strict=True):
        row = lane_index[bar.lane]
        x, w = x_of(start), max((end - start) * scale, 0.6)
        y = top + row * lane_h + pad
        color = colors.get(bar.job, DOWNTIME_COLOR)
        stroke: str | None = None
        stroke_width: float | None = None
        if bar.kind == "downtime":
            fill = DOWNTIME_COLOR
        elif bar.kind == "setup":
            pattern_id = hatches.setdefault(color, f"h{len(hatches)}")
            fill = f"url(#{pattern_id})"
        else:
            fill = color
        if bar.kind == "frozen":
            stroke, stroke_width = FROZEN_STROKE, 1.6
        if bar.late:
            stroke, stroke_width = LATE_COLOR, 1.6
        tip = None
        if tooltips:
            what = "downtime" if bar.kind == "downtime" else f"{bar.job} · {bar.operation} ({bar.kind})"
            tip = f"{bar.lane}: {what} {_when(bar.start, base)} – {_when(bar.end, base)}" + (
                " · LATE" if bar.late else ""
            )
        svg.rect(x, y, w, bar_h, fill=fill, stroke=stroke, stroke_width=stroke_width, tooltip=tip)
        if bar.kind != "downtime" and (bar.job not in last_end or end > last_end[bar.job][0]):
            last_end[bar.job] = (end, row)
        if bar.kind in ("run", "frozen") and bar_h >= 10:
            text = bar.job
            if text_width(text, 10) + 6 <= w:
                labels.append((x + w / 2, y + bar_h / 2 + 3.5, text, contrast_text(color)))
    svg.close_group()
    for color, pattern_id in hatches.items():
        svg.define(_hatch_pattern(pattern_id, color))

    if labels:
        svg.open_group(font_size=10, text_anchor="middle")
        for x, y, text, color in labels:
            svg.text(x, y, text, fill=color)
        svg.close_group()

    # Late markers after each late job's last bar; due marks.
    if late_jobs:
        svg.open_group(fill=LATE_COLOR)
        for job in sorted(late_jobs):
            if job in last_end:
                end, row = last_end[job]
                x, y = x_of(end) + 1, top + row * lane_h + lane_h / 2
                svg.path(f"M{fmt(x)} {fmt(y)}l6 -4.5v9z")
        svg.close_group()
    if marks:
        job_rows: dict[str, set[int]] = {}
        for bar in bars:
            job_rows.setdefault(bar.job, set()).add(lane_index[bar.lane])
        svg.open_group(stroke_width=1.5, stroke_dasharray="3 2")
        for mark, minute in zip(marks, due, strict=True):
            if mark.lane is not None and mark.lane in lane_index:
                rows = {lane_index[mark.lane]}
            else:
                rows = job_rows.get(mark.job, set(range(len(lanes))))
            color = colors[mark.job]
            x = x_of(minute)
            for row in sorted(rows):
                svg.add(
                    element(
                        "line",
                        element("title", esc(f"{mark.job} due {_when(mark.due, base)}"))
                        if tooltips
                        else None,
                        x1=x,
                        y1=top + row * lane_h,
                        x2=x,
                        y2=top + (row + 1) * lane_h,
                        stroke=color,
                    )
                )
        svg.close_group()

    shown = {bar.kind for bar in bars} | ({"late"} if late_jobs else set()) | ({"due"} if marks else set())
    _legend(svg, legend_rows, colors, late_jobs, top + plot_h + 24, shown)
    return svg.render()


def _legend_rows(jobs: list[str], late_jobs: set[str], max_width: float) -> list[list[str]]:
    rows: list[list[str]] = []
    x = max_width + 1
    for job in jobs:
        item_w = 18 + text_width(_legend_label(job, late_jobs), 11) + 16
        if x + item_w > max_width:
            rows.append([])
            x = 8.0
        rows[-1].append(job)
        x += item_w
    return rows


def _legend_label(job: str, late_jobs: set[str]) -> str:
    label = truncate(job, 160, 11)
    return label + " (late)" if job in late_jobs else label


def _legend(
    svg: Svg, rows: list[list[str]], colors: dict[str, str], late_jobs: set[str], y: float, shown: set[str]
) -> None:
    """Key for the bar kinds, then the jobs (when few enough)."""
    x = 8.0
    names = {"setup": "setup", "downtime": "downtime", "frozen": "frozen", "late": "late", "due": "due date"}
    keys = [(kind, name) for kind, name in names.items() if kind in shown]
    for kind, name in keys:
        if kind == "setup":
            svg.rect(x, y - 10, 16, 11, fill="url(#hkey)")
            svg.define(_hatch_pattern("hkey", "#666666"))
        elif kind == "downtime":
            svg.rect(x, y - 10, 16, 11, fill=DOWNTIME_COLOR)
        elif kind == "frozen":
            svg.rect(x, y - 10, 16, 11, fill="#dddddd", stroke=FROZEN_STROKE, stroke_width=1.6)
        elif kind == "late":
            svg.rect(x, y - 10, 10, 11, fill="#dddddd", stroke=LATE_COLOR, stroke_width=1.6)
            svg.path(f"M{fmt(x + 11)} {fmt(y - 4.5)}l6 -4.5v9z", fill=LATE_COLOR)
        else:
            svg.line(x + 8, y - 11, x + 8, y + 2, stroke="#666666", stroke_width=1.5, stroke_dasharray="3 2")
        svg.text(x + 21, y, name, fill="#333333")
        x += 21 + text_width(name, 11) + 18
    for r, row in enumerate(rows):
        x, row_y = 8.0, y + 22 * (r + 1)
        for job in row:
            label = _legend_label(job, late_jobs)
            svg.rect(x, row_y - 10, 12, 11, fill=colors[job])
            svg.text(x + 17, row_y, label, fill=LATE_COLOR if job in late_jobs else "#333333")
            x += 18 + text_width(label, 11) + 16


def _when(value: Time, origin: datetime | None) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if origin is not None:
        return (origin + timedelta(minutes=value)).strftime("%Y-%m-%d %H:%M")
    return f"{tick_label(round(value, 1))} min"


def _json_time(value: Time, origin: datetime | None, as_datetime: bool) -> str | float:
    if not as_datetime:
        return _minutes(value, origin)
    if isinstance(value, datetime):
        return value.isoformat()
    if origin is None:  # pragma: no cover - as_datetime implies an origin
        raise ValueError("minutes need an origin to become datetimes")
    return (origin + timedelta(minutes=value)).isoformat()


def gantt_json(
    bars: list[GanttBar], *, origin: datetime | None = None, due_marks: Sequence[DueMark] = ()
) -> dict[str, Any]:
    """The chart's data for a front end: lanes, jobs with their colours, bars with ISO times or minutes.

    ``time_unit`` is ``"datetime"`` (ISO 8601 strings) when an origin is given or any time is a
    datetime, else ``"minutes"`` (numbers).
    """
    marks = list(due_marks)
    base = _origin(bars, marks, origin)
    as_datetime = base is not None
    late_jobs = {bar.job for bar in bars if bar.late}
    jobs = list(dict.fromkeys(bar.job for bar in bars if bar.kind != "downtime"))
    colors = job_colors([*jobs, *(mark.job for mark in marks)])
    return {
        "time_unit": "datetime" if as_datetime else "minutes",
        "origin": base.isoformat() if base is not None else None,
        "lanes": _lanes(bars),
        "jobs": [{"id": job, "color": colors[job], "late": job in late_jobs} for job in jobs],
        "bars": [
            {
                "lane": bar.lane,
                "job": bar.job,
                "operation": bar.operation,
                "kind": bar.kind,
                "late": bar.late,
                "start": _json_time(bar.start, base, as_datetime),
                "end": _json_time(bar.end, base, as_datetime),
                "color": DOWNTIME_COLOR if bar.kind == "downtime" else colors[bar.job],
            }
            for bar in bars
        ],
        "due_marks": [
            {"job": m.job, "lane": m.lane, "due": _json_time(m.due, base, as_datetime)} for m in marks
        ],
    }
