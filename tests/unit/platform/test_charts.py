"""``shared.charts``: SVG load charts, heat maps and Gantt charts are well-formed and say what they should.

The SVG is parsed with ``xml.etree.ElementTree``; bars are the rects carrying a ``<title>`` tooltip.
"""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest

from shared.charts import (
    PNG_SIGNATURE,
    DueMark,
    GanttBar,
    LoadBucket,
    gantt_json,
    gantt_svg,
    job_color,
    load_chart_svg,
    load_overview_svg,
    png_available,
    svg_to_png,
)
from shared.charts.gantt import DOWNTIME_COLOR, FROZEN_STROKE, LATE_COLOR, PALETTE, job_colors
from shared.charts.load import AMBER, EMPTY, GREEN, LOAD_COLOR, OVERLOAD_COLOR, RED
from shared.charts.svg import esc, fmt, nice_ticks

NS = "{http://www.w3.org/2000/svg}"
ORIGIN = datetime(2025, 3, 3, 6, 0)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert "sans-serif" in (root.get("font-family") or "")
    return root


def bar_rects(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{NS}rect") if rect.find(f"{NS}title") is not None]


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{NS}text")]


def bucket(day: int, load_h: float, cap_h: float) -> LoadBucket:
    start = date(2025, 3, 3) + timedelta(days=day)
    return LoadBucket(start, start.strftime("%d %b"), load_h * 60, cap_h * 60)


# -- svg helpers ------------------------------------------------------------------------------------
def test_escaping_and_rounding() -> None:
    assert esc('a<b & "c">\x00') == "a&lt;b &amp; &quot;c&quot;&gt;"
    assert [fmt(12.0), fmt(12.04), fmt(12.05000001), fmt(-0.04)] == ["12", "12", "12.1", "0"]
    assert nice_ticks(17.3) == [0, 5, 10, 15, 20]
    assert nice_ticks(0) == [0, 1]


# -- load chart ------------------------------------------------------------------------------------
def test_load_chart_bars_red_where_overloaded() -> None:
    buckets = [bucket(2, 17, 16), bucket(0, 8, 16), bucket(1, 16, 16), bucket(3, 1, 0), bucket(4, 0, 0)]
    root = parse(load_chart_svg("WC-10", buckets))
    bars = bar_rects(root)
    assert len(bars) == len(buckets)
    # Drawn in date order: day 0, 1 (exactly full: not red), 2 (over), 3 (load without capacity), 4.
    assert [bar.get("fill") for bar in bars] == [
        LOAD_COLOR,
        LOAD_COLOR,
        OVERLOAD_COLOR,
        OVERLOAD_COLOR,
        LOAD_COLOR,
    ]
    xs = [float(bar.get("x") or 0) for bar in bars]
    assert xs == sorted(xs)
    title = texts(root)[0]
    assert "WC-10" in title
    assert "bottleneck 06 Mar (no capacity)" in title
    assert {"Load", "Overload", "Capacity"} <= set(texts(root))
    assert root.find(f"{NS}path") is not None  # the capacity step line


def test_load_chart_bottleneck_percent_axis_and_empty() -> None:
    buckets = [bucket(0, 8, 16), bucket(1, 20, 16), bucket(2, 12, 8)]
    root = parse(load_chart_svg("Press <P1> & co", buckets, axis="percent"))
    title = texts(root)[0]
    assert title.startswith("Load — Press <P1> & co")
    assert "bottleneck 05 Mar (150 %)" in title
    assert "utilisation %" in texts(root)
    assert len(bar_rects(root)) == 3
    assert "No buckets" in texts(parse(load_chart_svg("WC", [])))


def test_load_chart_400_buckets_sparse_labels() -> None:
    buckets = [bucket(i, 10 + (i % 9), 15) for i in range(400)]
    svg = load_chart_svg("WC-20", buckets)
    root = parse(svg)
    assert len(bar_rects(root)) == 400
    labels = [t for t in texts(root) if re.fullmatch(r"\d\d \w{3}", t)]
    assert 5 <= len(labels) <= 25
    assert sum(bar.get("fill") == OVERLOAD_COLOR for bar in bar_rects(root)) == sum(
        b.overloaded for b in buckets
    )


def test_heat_map_classes_and_scale() -> None:
    rows = {
        "WC-A": [bucket(0, 4, 8), bucket(1, 6.8, 8), bucket(2, 8, 8), bucket(3, 9, 8)],
        "WC-B": [bucket(0, 0, 0), bucket(3, 2, 0)],
    }
    root = parse(load_overview_svg(rows))
    cells = bar_rects(root)
    assert len(cells) == 8  # 2 work centers × 4 dates
    assert [cell.get("fill") for cell in cells] == [GREEN, AMBER, AMBER, RED, EMPTY, EMPTY, EMPTY, RED]
    assert {"< 85 %", "85–100 %", "> 100 %"} <= set(texts(root))
    assert "WC-B · 04 Mar: no data" in [cell.findtext(f"{NS}title") for cell in cells]
    assert "No buckets" in texts(parse(load_overview_svg({})))


# -- gantt -----------------------------------------------------------------------------------------
def sample_bars() -> list[GanttBar]:
    at = lambda minutes: ORIGIN + timedelta(minutes=minutes)  # noqa: E731
    return [
        GanttBar("M1", "J<1>&", "op10", at(0), at(30), "setup"),
        GanttBar("M1", "J<1>&", "op10", at(30), at(300), "run"),
        GanttBar("M1", "", "maintenance", at(300), at(400), "downtime"),
        GanttBar("M2", "J2", "op10", at(0), at(120), "frozen"),
        GanttBar("M2", "J<1>&", "op20", at(300), at(500), "run", late=True),
    ]


def test_gantt_one_rect_per_bar_kinds_and_escaping() -> None:
    bars = sample_bars()
    svg = gantt_svg(
        bars, title="Plan <A&B>", origin=None, due_marks=[DueMark("J<1>&", ORIGIN + timedelta(hours=7))]
    )
    assert "J<1>" not in svg  # escaped everywhere
    root = parse(svg)
    rects = bar_rects(root)
    assert len(rects) == len(bars)
    setup, run, down, frozen, late = rects
    assert (setup.get("fill") or "").startswith("url(#h")
    assert root.find(f".//{NS}pattern[@id='{(setup.get('fill') or '')[5:-1]}']") is not None
    colors = job_colors(["J<1>&", "J2"])
    assert run.get("fill") == colors["J<1>&"]
    assert down.get("fill") == DOWNTIME_COLOR
    assert frozen.get("stroke") == FROZEN_STROKE
    assert late.get("stroke") == LATE_COLOR
    assert late.get("y") != run.get("y")  # other lane
    all_text = texts(root)
    assert "Plan <A&B>" in all_text
    assert "J<1>& (late)" in all_text  # legend: few jobs
    assert any(t.startswith("Mon 03 Mar") for t in all_text)  # a date axis
    assert "J<1>& due 2025-03-03 13:00" in [n.text for n in root.iter(f"{NS}title")]


def test_gantt_minutes_axis_and_stable_colours() -> None:
    bars = [GanttBar(f"M{i % 3}", f"J{i}", "op", i * 50.0, i * 50.0 + 45, "run") for i in range(30)]
    root = parse(gantt_svg(bars, title="Solve"))
    assert "minutes" in texts(root)
    assert "0" in texts(root)
    assert len(bar_rects(root)) == 30
    legend_swatches = [r for r in root.iter(f"{NS}rect") if r.get("width") == "12"]
    assert legend_swatches == []  # 30 jobs: no legend of jobs
    assert job_color("J7") == job_color("J7") in PALETTE
    few = job_colors([f"J{i}" for i in range(20)])
    assert len(set(few.values())) == 20
    assert job_colors(reversed(list(few))) == few


def test_gantt_2000_bars_compact() -> None:
    bars = [
        GanttBar(
            f"Machine-{lane:02d}", f"JOB-{(lane * 7 + i) % 300}", "op", i * 61.3, i * 61.3 + 55.55, "run"
        )
        for lane in range(50)
        for i in range(40)
    ]
    svg = gantt_svg(bars, title="Big", origin=ORIGIN, tooltips=False)
    root = parse(svg)
    assert len(re.findall(r"<rect [^>]*/>", svg)) < 2100
    assert len(svg) < 250_000
    assert not re.search(r'="-?\d+\.\d\d', svg)  # coordinates rounded to 0.1
    assert len({t for t in texts(root) if t.startswith("JOB-")}) <= 300
    assert len(bar_rects(parse(gantt_svg(bars[:100], title="t")))) == 100
    assert "No bars" in texts(parse(gantt_svg([], title="empty")))


def test_gantt_json() -> None:
    data = gantt_json(sample_bars())
    json.dumps(data)
    assert data["time_unit"] == "datetime"
    assert data["lanes"] == ["M1", "M2"]
    assert data["bars"][0]["start"] == "2025-03-03T06:00:00"
    assert [job["id"] for job in data["jobs"]] == ["J<1>&", "J2"]
    assert data["jobs"][0]["late"] is True
    minutes = gantt_json([GanttBar("M1", "J1", "op", 0.0, 12.5)])
    assert minutes["time_unit"] == "minutes"
    assert minutes["bars"][0]["end"] == 12.5
    anchored = gantt_json([GanttBar("M1", "J1", "op", 0.0, 90.0)], origin=ORIGIN)
    assert anchored["bars"][0]["end"] == "2025-03-03T07:30:00"


# -- png -------------------------------------------------------------------------------------------
@pytest.mark.skipif(
    not png_available(), reason="PNG renderer 'resvg-py' is not installed in this environment"
)
def test_svg_to_png() -> None:
    png = svg_to_png(load_chart_svg("WC-10", [bucket(0, 8, 16), bucket(1, 20, 16)]))
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (900, 360)
    assert svg_to_png(gantt_svg(sample_bars(), title="x"), scale=2).startswith(PNG_SIGNATURE)
