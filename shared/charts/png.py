"""SVG to PNG with resvg (a Rust renderer shipped inside the ``resvg-py`` wheel: no system libraries).

Text needs a font on the machine: the generic ``sans-serif`` family is pointed at the first of a few
common faces found in the usual font folders (on Debian: ``fonts-dejavu-core``). Without any, shapes
still render and text is left out.
"""

from __future__ import annotations

import os
from functools import cache

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Sans-serif faces tried in order, by family name and the file that holds the regular style.
_SANS_FACES = (
    ("DejaVu Sans", "DejaVuSans.ttf"),
    ("Liberation Sans", "LiberationSans-Regular.ttf"),
    ("Noto Sans", "NotoSans-Regular.ttf"),
    ("Arial", "Arial.ttf"),
    ("Helvetica", "Helvetica.ttc"),
    ("FreeSans", "FreeSans.ttf"),
)
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    os.path.expanduser("~/.fonts"),
    os.path.expanduser("~/.local/share/fonts"),
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:\\Windows\\Fonts",
)


class PngRendererMissing(RuntimeError):
    """The optional renderer (``resvg-py``) is not installed."""


def png_available() -> bool:
    """Whether :func:`svg_to_png` can run here."""
    try:
        import resvg_py  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def sans_serif_family() -> str | None:
    """The family the renderer uses for ``sans-serif``: the first common face installed, if any."""
    found: set[str] = set()
    for folder in _FONT_DIRS:
        if not os.path.isdir(folder):
            continue
        for _, _, files in os.walk(folder):
            found.update(files)
    for family, filename in _SANS_FACES:
        if filename in found:
            return family
    return None


def svg_to_png(svg: str, *, scale: float = 1.0, background: str = "#ffffff") -> bytes:
    """The SVG rendered to PNG bytes at ``scale`` times its size, on an opaque ``background``."""
    try:
        import resvg_py
    except ImportError as exc:
        raise PngRendererMissing("PNG rendering needs the 'resvg-py' package") from exc
    family = sans_serif_family()
    if family is not None:
        rendered = resvg_py.svg_to_bytes(
            svg_string=svg, background=background, zoom=scale, sans_serif_family=family
        )
    else:
        rendered = resvg_py.svg_to_bytes(svg_string=svg, background=background, zoom=scale)
    return bytes(rendered)
