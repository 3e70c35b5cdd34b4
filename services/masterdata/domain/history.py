"""Field-level differences between two versions of a record, for the change history.

Rules:

- Records are compared leaf by leaf through dataclasses (by field), mappings (by key) and
  lists/tuples. ``field`` is the path of the leaf, segments joined by ``/`` (``lot_sizing/min_qty``).
- Lists of records that have a natural key are matched by that key, not by position, so inserting
  one BOM line reports one added line rather than every later line as changed. Keys: a BOM line's
  ``component`` (with ``@valid_from`` when it has one), an operation's ``seq``, a supplier item's
  ``sku``, a machine's ``code``, an alternate's ``work_center``. The key is the path segment
  (``operations/20/setup_minutes``). Other lists are compared by position (``holidays/1``).
- An added element is reported as ``(path, None, element)``, a removed one as
  ``(path, element, None)``; a creation (old is ``None``) or deletion gives one change at the root
  (field ``""``).
- Values are equal when ``==`` says so: ``Decimal("1.0")`` and ``Decimal("1")`` are the same
  quantity and no change. Changes come in the order of the new version's fields and elements,
  removed elements last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from services.masterdata.domain.model import Alternate, BomLine, Machine, Operation, SupplierItem


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def _natural_key(value: object) -> str | None:
    if isinstance(value, BomLine):
        return value.component + (f"@{value.valid_from.isoformat()}" if value.valid_from else "")
    if isinstance(value, Operation):
        return str(value.seq)
    if isinstance(value, SupplierItem):
        return value.sku
    if isinstance(value, Machine):
        return value.code
    if isinstance(value, Alternate):
        return value.work_center
    return None


def _join(path: str, segment: object) -> str:
    text = str(segment).replace("~", "~0").replace("/", "~1")
    return f"{path}/{text}" if path else text


def _keyed(values: Sequence[Any]) -> dict[str, Any] | None:
    """Elements by natural key, or ``None`` when some element has none or keys repeat."""
    out: dict[str, Any] = {}
    for value in values:
        key = _natural_key(value)
        if key is None or key in out:
            return None
        out[key] = value
    return out


def _walk(path: str, old: Any, new: Any, out: list[FieldChange]) -> None:
    if old is None or new is None or type(old) is not type(new):
        if old != new:
            out.append(FieldChange(path, old, new))
        return
    if is_dataclass(old) and not isinstance(old, type):
        for f in fields(old):
            _walk(_join(path, f.name), getattr(old, f.name), getattr(new, f.name), out)
    elif isinstance(old, Mapping):
        for key in new:
            _walk(_join(path, key), old.get(key), new[key], out)
        for key in old:
            if key not in new:
                out.append(FieldChange(_join(path, key), old[key], None))
    elif isinstance(old, list | tuple):
        old_keyed, new_keyed = _keyed(old), _keyed(new)
        if old_keyed is not None and new_keyed is not None:
            _walk(path, old_keyed, new_keyed, out)
            return
        for i, value in enumerate(new):
            _walk(_join(path, i), old[i] if i < len(old) else None, value, out)
        for i in range(len(new), len(old)):
            out.append(FieldChange(_join(path, i), old[i], None))
    elif old != new:
        out.append(FieldChange(path, old, new))


def diff_records(old: Any, new: Any) -> list[FieldChange]:
    """What changed from ``old`` to ``new`` (either may be ``None``): one entry per leaf field."""
    out: list[FieldChange] = []
    _walk("", old, new, out)
    return out
