"""Pictures for planners, as pure functions: data in, SVG text (or PNG bytes) out.

* :func:`load_chart_svg` – load against capacity of one work center; :func:`load_overview_svg` – a
  utilisation heat map, work center × bucket.
* :func:`gantt_svg` / :func:`gantt_json` – a schedule, one lane per machine.
* :func:`svg_to_png` – any of these as PNG (needs the optional ``resvg-py`` renderer).
"""

from shared.charts.gantt import DueMark, GanttBar, gantt_json, gantt_svg, job_color
from shared.charts.load import LoadBucket, load_chart_svg, load_overview_svg
from shared.charts.png import PNG_SIGNATURE, PngRendererMissing, png_available, svg_to_png

__all__ = [
    "PNG_SIGNATURE",
    "DueMark",
    "GanttBar",
    "LoadBucket",
    "PngRendererMissing",
    "gantt_json",
    "gantt_svg",
    "job_color",
    "load_chart_svg",
    "load_overview_svg",
    "png_available",
    "svg_to_png",
]
