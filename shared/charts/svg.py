"""A tiny SVG builder: elements as strings, attributes escaped, numbers rounded to 0.1.

Nothing here does I/O: a :class:`Svg` collects elements and :meth:`Svg.render` returns the document
as a string. Attribute names are given as keyword arguments, ``_`` becoming ``-`` (``stroke_width``
is ``stroke-width``) and a trailing ``_`` dropped (``class_`` is ``class``); ``None`` leaves an
attribute out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

#: The fonts asked for: common sans-serif faces, then the generic family.
FONT_FAMILY = "Helvetica, Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif"
#: A rough average advance of one character, as a fraction of the font size (sans-serif faces).
CHAR_WIDTH_EM = 0.6

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

AttrValue = str | int | float | None


def fmt(value: float) -> str:
    """A coordinate rounded to 0.1, without a useless ``.0`` (``12.0`` is ``12``, ``-0.0`` is ``0``)."""
    rounded = round(float(value), 1)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.1f}"


def esc(text: object) -> str:
    """Text safe in an element or a double-quoted attribute (``& < > "`` escaped, control chars dropped)."""
    cleaned = _INVALID_XML.sub("", str(text))
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def text_width(text: str, font_size: float) -> float:
    """An estimate of the width of ``text`` in pixels (no font metrics available: an average advance)."""
    return len(text) * font_size * CHAR_WIDTH_EM


def truncate(text: str, max_width: float, font_size: float) -> str:
    """``text`` shortened with an ellipsis so that it fits in ``max_width`` pixels (maybe empty)."""
    if text_width(text, font_size) <= max_width:
        return text
    keep = int(max_width / (font_size * CHAR_WIDTH_EM)) - 1
    return text[:keep] + "…" if keep > 0 else ""


def _attr_name(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


def attrs(values: Mapping[str, AttrValue]) -> str:
    """Attributes rendered as `` name="value"``; floats rounded with :func:`fmt`, ``None`` left out."""
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            raise TypeError(f"attribute {name!r}: a bool is not an SVG value")
        rendered = fmt(value) if isinstance(value, int | float) else esc(value)
        parts.append(f' {_attr_name(name)}="{rendered}"')
    return "".join(parts)


def element(tag: str, content: str | None = None, /, **values: AttrValue) -> str:
    """One element: empty (``<tag .../>``) when ``content`` is ``None``; ``content`` is markup, not text."""
    if content is None:
        return f"<{tag}{attrs(values)}/>"
    return f"<{tag}{attrs(values)}>{content}</{tag}>"


class Svg:
    """An SVG document being built; elements are appended in drawing order (later ones on top)."""

    def __init__(
        self,
        width: float,
        height: float,
        *,
        title: str | None = None,
        font_size: float = 11,
        background: str | None = "#ffffff",
    ) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.font_size = font_size
        self._defs: list[str] = []
        self._parts: list[str] = []
        if background is not None:
            self.rect(0, 0, width, height, fill=background)

    # -- raw -------------------------------------------------------------------------------------
    def add(self, markup: str) -> None:
        """Append markup already built (with :func:`element`)."""
        self._parts.append(markup)

    def define(self, markup: str) -> None:
        """Append markup to ``<defs>`` (patterns, clip paths)."""
        self._defs.append(markup)

    def open_group(self, **values: AttrValue) -> None:
        self._parts.append(f"<g{attrs(values)}>")

    def close_group(self) -> None:
        self._parts.append("</g>")

    # -- shapes ----------------------------------------------------------------------------------
    def rect(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        *,
        tooltip: str | None = None,
        **values: AttrValue,
    ) -> None:
        content = element("title", esc(tooltip)) if tooltip else None
        self._parts.append(
            element("rect", content, x=x, y=y, width=max(width, 0.0), height=max(height, 0.0), **values)
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, **values: AttrValue) -> None:
        self._parts.append(element("line", x1=x1, y1=y1, x2=x2, y2=y2, **values))

    def path(self, d: str, **values: AttrValue) -> None:
        self._parts.append(element("path", d=d, **values))

    def polyline(self, points: Iterable[tuple[float, float]], **values: AttrValue) -> None:
        joined = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)
        self._parts.append(element("polyline", points=joined, **values))

    def text(self, x: float, y: float, content: str, **values: AttrValue) -> None:
        """Text at ``(x, y)`` (the baseline); ``content`` is plain text and is escaped here."""
        self._parts.append(element("text", esc(content), x=x, y=y, **values))

    # -- output ----------------------------------------------------------------------------------
    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{fmt(self.width)}" height="{fmt(self.height)}"'
            f' viewBox="0 0 {fmt(self.width)} {fmt(self.height)}"'
            f' font-family="{esc(FONT_FAMILY)}" font-size="{fmt(self.font_size)}">'
        )
        body = []
        if self.title:
            body.append(element("title", esc(self.title)))
        if self._defs:
            body.append(element("defs", "".join(self._defs)))
        body.extend(self._parts)
        return head + "".join(body) + "</svg>\n"


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about ``target_ticks`` ticks."""
    if span <= 0:
        return 1.0
    raw = span / max(target_ticks, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= mult * magnitude:
            return mult * magnitude
    return 10 * magnitude


def nice_ticks(maximum: float, target_ticks: int = 5) -> list[float]:
    """Ticks from 0 to at least ``maximum`` with a round step (``[0, 1]`` for an empty range)."""
    if maximum <= 0:
        return [0.0, 1.0]
    step = nice_step(maximum, target_ticks)
    ticks = [0.0]
    while ticks[-1] < maximum - 1e-9 * step:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def tick_label(value: float) -> str:
    """A tick value without useless decimals (``2.5``, ``10``, ``0.25``)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def contrast_text(fill: str) -> str:
    """Black or white, whichever reads better on the ``#rrggbb`` colour ``fill``."""
    red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return "#111111" if luminance > 150 else "#ffffff"
