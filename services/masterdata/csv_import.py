"""CSV files as a planner exports them from a spreadsheet: parsing into master-data records.

Pure functions (no I/O). Files:

- ``items.csv``: ``sku, name, uom, kind, family, lead_time_days, safety_stock, lot_rule, lot_qty,
  lot_periods, min_qty, max_qty, multiple, standard_cost, phantom``;
- ``boms.csv``: ``parent, component, qty_per, scrap_pct, valid_from, valid_to`` (optional ``uom``);
  the rows of one parent make its whole BOM;
- ``routings.csv``: ``sku, seq, work_center, setup_minutes, run_minutes_per_unit,
  alternate_work_center, alternate_run_minutes_per_unit``; the first row of a ``(sku, seq)`` gives
  the operation, every row with an alternate adds one.

Rules: a header row names the columns (any order, case and surrounding spaces ignored, unknown
columns ignored); the separator is ``;``, ``,`` or a tab, whichever the header uses most; text is
UTF-8 (with or without BOM), else Windows-1252; blank rows are skipped. Numbers take a decimal
comma or point (``1,5`` = ``1.5``; with both, the last one is the decimal mark and the other groups
thousands); dates are ``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``DD.MM.YYYY``; ``phantom`` is
``1/0``, ``true/false``, ``yes/no``, ``y/n``, ``x`` or blank. Empty optional cells take the API
defaults.

Every problem is a :class:`CsvIssue` named ``file:line:column`` (lines count from 1, the header
being line 1), and :meth:`CsvBatch.field_of` turns the domain validation's pointers
(``items/BOLT/lead_time_days``) into the same form, so a 422 always names the cell to fix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from services.masterdata.domain.model import (
    Alternate,
    Bom,
    BomLine,
    Item,
    ItemKind,
    LotSizing,
    LotSizingRule,
    Operation,
    Routing,
)
from services.masterdata.domain.validation import pointer

ITEM_COLUMNS = (
    "sku",
    "name",
    "uom",
    "kind",
    "family",
    "lead_time_days",
    "safety_stock",
    "lot_rule",
    "lot_qty",
    "lot_periods",
    "min_qty",
    "max_qty",
    "multiple",
    "standard_cost",
    "phantom",
)
BOM_COLUMNS = ("parent", "component", "qty_per", "scrap_pct", "valid_from", "valid_to", "uom")
ROUTING_COLUMNS = (
    "sku",
    "seq",
    "work_center",
    "setup_minutes",
    "run_minutes_per_unit",
    "alternate_work_center",
    "alternate_run_minutes_per_unit",
)
REQUIRED = {
    "items.csv": ("sku", "uom", "kind"),
    "boms.csv": ("parent", "component", "qty_per"),
    "routings.csv": ("sku", "seq", "work_center"),
}
#: domain field path (below the record) → CSV column
_ITEM_FIELDS = {
    "lot_sizing/rule": "lot_rule",
    "lot_sizing/quantity": "lot_qty",
    "lot_sizing/periods": "lot_periods",
    "lot_sizing/min_qty": "min_qty",
    "lot_sizing/max_qty": "max_qty",
    "lot_sizing/multiple": "multiple",
}
_TRUE = {"1", "true", "yes", "y", "x", "oui", "o", "vrai"}
_FALSE = {"", "0", "false", "no", "n", "non", "faux"}


class CellError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class CsvIssue:
    file: str
    line: int
    column: str
    message: str
    code: str

    @property
    def field(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class CsvBatch:
    items: list[Item] = field(default_factory=list)
    boms: list[Bom] = field(default_factory=list)
    routings: list[Routing] = field(default_factory=list)
    issues: list[CsvIssue] = field(default_factory=list)
    #: record or sub-record pointer → (file, line, column naming the record)
    sources: dict[str, tuple[str, int, str]] = field(default_factory=dict)

    def field_of(self, path: str) -> str:
        """``file:line:column`` of a validation pointer into CSV-sourced records (else as is)."""
        head = path
        while head:
            source = self.sources.get(head)
            if source is not None:
                file, line, default = source
                rest = path[len(head) + 1 :]
                column = _column(file, rest)
                if column and "/alternates/" in head:
                    column = f"alternate_{column}"
                return f"{file}:{line}:{column or default}"
            head = head.rpartition("/")[0]
        return path


def _column(file: str, rest: str) -> str:
    if not rest:
        return ""
    if file == "items.csv":
        return _ITEM_FIELDS.get(rest, rest.split("/", maxsplit=1)[0])
    if file == "routings.csv" and rest.startswith("alternates/"):
        return "alternate_" + rest.rsplit("/", 1)[-1]
    return rest.rsplit("/", 1)[-1]


# -- cells -----------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_decimal(text: str) -> Decimal:
    s = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif s.count(",") == 1:
        s = s.replace(",", ".")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise CellError("not_a_number", f"'{text}' is not a number") from None
    if not value.is_finite():
        raise CellError("not_a_number", f"'{text}' is not a finite number")
    return value


def parse_int(text: str) -> int:
    value = parse_decimal(text)
    if value != value.to_integral_value():
        raise CellError("not_an_integer", f"'{text}' is not a whole number")
    return int(value)


def parse_date(text: str) -> date:
    s = text.strip()
    try:
        if len(s) == 10 and s[4] == "-":
            return date.fromisoformat(s)
        for sep in ("/", "."):
            if s.count(sep) == 2:
                d, m, y = (int(p) for p in s.split(sep))
                return date(y, m, d)
    except ValueError:
        pass
    raise CellError("not_a_date", f"'{text}' is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def parse_bool(text: str) -> bool:
    s = text.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise CellError("not_a_boolean", f"'{text}' is not yes/no (1/0, true/false, yes/no, x)")


def parse_choice(choices: type[ItemKind] | type[LotSizingRule]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return choices(text.strip().lower())
        except ValueError:
            allowed = ", ".join(c.value for c in choices)
            raise CellError("invalid_value", f"'{text}' is not one of {allowed}") from None

    return parse


# -- rows ------------------------------------------------------------------------------------------


class _Rows:
    """The rows of one file as ``(line, {column: text})``, reporting header problems."""

    def __init__(self, file: str, data: bytes, issues: list[CsvIssue]) -> None:
        self.file = file
        self.issues = issues
        text = decode(data)
        first = text.split("\n", 1)[0]
        self.reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first))
        try:
            header = next(self.reader)
        except StopIteration:
            header = []
        self.columns = [h.strip().lower().lstrip("\ufeff") for h in header]
        self.ok = True
        for name in REQUIRED[file]:
            if name not in self.columns:
                self.issue(1, name, "missing_column", f"the header has no '{name}' column")
                self.ok = False

    def issue(self, line: int, column: str, code: str, message: str) -> None:
        self.issues.append(CsvIssue(self.file, line, column, message, code))

    def __iter__(self) -> Any:
        if not self.ok:
            return
        for row in self.reader:
            if not any(cell.strip() for cell in row):
                continue
            cells = {name: row[i].strip() if i < len(row) else "" for i, name in enumerate(self.columns)}
            yield self.reader.line_num, cells

    def get(
        self,
        line: int,
        cells: Mapping[str, str],
        column: str,
        parse: Callable[[str], Any],
        *,
        required: bool = False,
    ) -> Any:
        """The parsed cell, ``None`` when blank (an issue when required) or unreadable."""
        text = cells.get(column, "")
        if not text:
            if required:
                self.issue(line, column, "required", f"{column} is required")
            return None
        try:
            return parse(text)
        except CellError as err:
            self.issue(line, column, err.code, err.message)
            return None


def _text(s: str) -> str:
    return s


def parse_items(data: bytes, out: CsvBatch) -> None:
    rows = _Rows("items.csv", data, out.issues)
    for line, cells in rows:
        before = len(out.issues)
        g = rows.get
        sku = g(line, cells, "sku", _text, required=True)
        uom = g(line, cells, "uom", _text, required=True)
        kind = g(line, cells, "kind", parse_choice(ItemKind), required=True)
        values = {
            "lead_time_days": g(line, cells, "lead_time_days", parse_int),
            "safety_stock": g(line, cells, "safety_stock", parse_decimal),
            "rule": g(line, cells, "lot_rule", parse_choice(LotSizingRule)),
            "quantity": g(line, cells, "lot_qty", parse_decimal),
            "periods": g(line, cells, "lot_periods", parse_int),
            "min_qty": g(line, cells, "min_qty", parse_decimal),
            "max_qty": g(line, cells, "max_qty", parse_decimal),
            "multiple": g(line, cells, "multiple", parse_decimal),
            "standard_cost": g(line, cells, "standard_cost", parse_decimal),
            "phantom": g(line, cells, "phantom", parse_bool),
        }
        if len(out.issues) > before:
            continue
        out.sources[pointer("items", sku)] = ("items.csv", line, "sku")
        out.items.append(
            Item(
                sku=sku,
                name=cells.get("name", ""),
                uom=uom,
                kind=kind,
                family=cells.get("family") or None,
                lead_time_days=values["lead_time_days"] or 0,
                safety_stock=values["safety_stock"] or Decimal(0),
                lot_sizing=LotSizing(
                    rule=values["rule"] or LotSizingRule.LOT_FOR_LOT,
                    quantity=values["quantity"],
                    periods=values["periods"],
                    min_qty=values["min_qty"],
                    max_qty=values["max_qty"],
                    multiple=values["multiple"],
                ),
                standard_cost=values["standard_cost"],
                phantom=bool(values["phantom"]),
            )
        )


def parse_boms(data: bytes, out: CsvBatch) -> None:
    rows = _Rows("boms.csv", data, out.issues)
    lines: dict[str, list[BomLine]] = {}
    for line, cells in rows:
        before = len(out.issues)
        g = rows.get
        parent = g(line, cells, "parent", _text, required=True)
        component = g(line, cells, "component", _text, required=True)
        qty = g(line, cells, "qty_per", parse_decimal, required=True)
        scrap = g(line, cells, "scrap_pct", parse_decimal)
        since = g(line, cells, "valid_from", parse_date)
        until = g(line, cells, "valid_to", parse_date)
        if len(out.issues) > before:
            continue
        own = lines.setdefault(parent, [])
        if not own:
            out.sources[pointer("boms", parent)] = ("boms.csv", line, "parent")
        out.sources[pointer("boms", parent, "lines", len(own))] = ("boms.csv", line, "component")
        own.append(
            BomLine(parent, component, qty, scrap or Decimal(0), since, until, cells.get("uom") or None)
        )
    out.boms.extend(Bom(parent, tuple(ls)) for parent, ls in lines.items())


def parse_routings(data: bytes, out: CsvBatch) -> None:
    rows = _Rows("routings.csv", data, out.issues)
    ops: dict[str, dict[int, tuple[Operation, list[Alternate]]]] = {}
    for line, cells in rows:
        before = len(out.issues)
        g = rows.get
        sku = g(line, cells, "sku", _text, required=True)
        seq = g(line, cells, "seq", parse_int, required=True)
        wc = g(line, cells, "work_center", _text, required=True)
        setup = g(line, cells, "setup_minutes", parse_decimal)
        run = g(line, cells, "run_minutes_per_unit", parse_decimal)
        alt_wc = cells.get("alternate_work_center") or None
        alt_run = g(line, cells, "alternate_run_minutes_per_unit", parse_decimal)
        if len(out.issues) > before:
            continue
        mine = ops.setdefault(sku, {})
        if not mine:
            out.sources[pointer("routings", sku)] = ("routings.csv", line, "sku")
        if seq not in mine:
            index = len(mine)
            out.sources[pointer("routings", sku, "operations", index)] = ("routings.csv", line, "seq")
            mine[seq] = (Operation(seq, wc, setup or Decimal(0), run or Decimal(0)), [])
        if alt_wc is not None:
            index = list(mine).index(seq)
            alternates = mine[seq][1]
            at = pointer("routings", sku, "operations", index, "alternates", len(alternates))
            out.sources[at] = ("routings.csv", line, "alternate_work_center")
            alternates.append(Alternate(alt_wc, alt_run or Decimal(0)))
    for sku, by_seq in ops.items():
        operations = tuple(
            Operation(op.seq, op.work_center, op.setup_minutes, op.run_minutes_per_unit, tuple(alts))
            for op, alts in by_seq.values()
        )
        out.routings.append(Routing(sku, operations))


PARSERS: dict[str, Callable[[bytes, CsvBatch], None]] = {
    "items": parse_items,
    "boms": parse_boms,
    "routings": parse_routings,
}


def parse_files(files: Mapping[str, bytes]) -> CsvBatch:
    """Parse the files given by form name (``items``, ``boms``, ``routings``)."""
    out = CsvBatch()
    for name in ("items", "boms", "routings"):
        if name in files:
            PARSERS[name](files[name], out)
    return out
