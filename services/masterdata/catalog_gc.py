"""The cyclic garbage collector and a catalog of millions of objects.

The catalog (100k items, 1M BOM lines) is millions of small, acyclic objects (freed by reference
counting alone). Each full collection walks all of them (about a second at that size), and while
an import allocates millions more, collections run again and again (a third of the parse time).
So: :func:`paused` around bulk work, and :func:`settle` after a load or an import moves what
survived into the permanent generation, out of the collector's sight (``gc.freeze``), so a
request never pays a full walk of the catalog. Objects frozen this way and later dropped are
still freed by reference counting; only cyclic garbage among them would stay (the domain records
hold no cycles).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_depth = 0


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (nested blocks allowed); settle on the way out."""
    global _depth
    was_enabled = gc.isenabled()
    _depth += 1
    gc.disable()
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            settle()
            if was_enabled:
                gc.enable()


def settle() -> None:
    """Collect what is garbage now, then freeze the survivors (the catalog)."""
    gc.collect()
    gc.freeze()
