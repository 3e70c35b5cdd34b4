"""EDI intake: purchase orders sent as raw UN/EDIFACT ORDERS or ANSI X12 850 text.

:func:`parse_edi` detects the syntax, checks the envelope and turns every message (EDIFACT
``UNH``…``UNT``) or transaction set (X12 ``ST``…``SE``) into one :class:`EdiOrder`. It is all or
nothing: any problem anywhere in the interchange raises one :class:`EdiSyntaxError` that lists
every problem found, each located by segment (1-based index within the interchange, tag) and
element (1-based position after the tag).

Envelope
--------
* EDIFACT: optional ``UNA`` service string advice (6 characters: component separator, element
  separator, decimal mark, release character, reserved, segment terminator; defaults
  ``:+.? '``), then ``UNB``, optional ``UNG``…``UNE`` groups, ``UNH``…``UNT`` messages, ``UNZ``.
  ``UNA`` is not a segment and is not counted: segment 1 is the first segment after it. Line
  breaks are ignored wherever they are (between segments or wrapped at a fixed width), unless a
  line break is the declared segment terminator. ``?`` (or the declared release character)
  makes the next character literal. Version ``D`` messages are read (written against D96A; the
  segments used here are unchanged in later D releases).
* X12: ``ISA`` (its fixed layout gives the separators: the character after ``ISA`` separates
  elements, ISA16 is the component separator and the next character terminates segments;
  padding is tolerated), ``GS``…``GE`` groups, ``ST``…``SE`` transaction sets, ``IEA``.
  Whitespace (line breaks) around segments is ignored.

Control counts and references are checked: ``UNT``/``SE`` segment counts, ``UNZ``/``IEA``/
``GE``/``UNE`` message or group counts, and the references UNH/UNT, UNB/UNZ, UNG/UNE, ST/SE,
ISA/IEA, GS/GE.

Content
-------
* ``number``: EDIFACT BGM 1004, X12 BEG03. ``function_code`` keeps BGM 1225 / BEG01 (original,
  replace, cancel…) so the service can refuse what it does not book.
* ``customer``: EDIFACT ``NAD+BY`` party id (C082 3039), else the UNB sender; X12 ``N1*BY`` id
  (N104), else its name (N102), else the ISA06 sender.
* ``order_date``: EDIFACT header ``DTM+4`` (order date), else ``DTM+137`` (document date); X12
  BEG05. ``None`` when absent.
* ``delivery_date`` (header requested date): EDIFACT ``DTM+2`` (requested), else ``DTM+64``
  (earliest), else ``DTM+69`` (promised); X12 ``DTM*002`` (delivery requested), else
  ``DTM*010`` (requested ship). A line's own date (the same qualifiers, found after its ``LIN``
  / ``PO1``) overrides it; ``due_date`` is ``None`` when neither exists.
* Lines: EDIFACT ``LIN`` (+ ``PIA``, ``QTY+21``, ``DTM``, ``PRI``), up to ``UNS``; X12 ``PO1``
  (PO102 quantity, PO103 unit, PO104 unit price, PO106/PO107… qualifier/id pairs), up to
  ``CTT``/``SE``. Delivery schedules (several ``QTY+21`` for one line, X12 ``SCH``) are refused
  rather than booked wrongly.
* Dates: EDIFACT format 102 (CCYYMMDD), 203 (CCYYMMDDHHMM), 204 (CCYYMMDDHHMMSS), 101 (YYMMDD);
  without a format code the length decides. X12 CCYYMMDD (YYMMDD of old versions accepted).
  Two-digit years: 00-49 → 20xx, 50-99 → 19xx.
* Numbers are :class:`~decimal.Decimal`. EDIFACT accepts the UNA decimal mark and, since ISO 9735
  forbids thousands separators, the other mark as well (``12,5`` and ``12.5`` are both 12.5).
  X12 uses ``.``. A ``PRI`` unit price basis (C509 5284, e.g. price per 100) is divided out.

Which item id becomes ``sku``
-----------------------------
Jalon is the supplier receiving the order, so the supplier's own article number is the one its
item master knows: EDIFACT ``SA`` (supplier's article number; ``VN``/``VP`` too), X12 ``VP``
(vendor's part number) or ``VN`` (vendor's item number) win. Failing that, the buyer's number
(EDIFACT ``IN``/``BP``; X12 ``BP``, ``IN``, ``PI``, ``CB``, ``SK``), which the service must map
through a customer cross-reference; then a global trade item number (``SRV``/``EN``/``UP``,
X12 ``UP``/``EN``/``UK``/``UI``); then the first id given. Ties go to the first in message order
(the ``LIN`` id before ``PIA`` ids; PO1 pairs left to right). Every id is kept in
``EdiLine.item_ids`` and the winner's qualifier in ``EdiLine.sku_qualifier``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal
from urllib.parse import quote

Syntax = Literal["EDIFACT", "X12"]

__all__ = [
    "EdiError",
    "EdiLine",
    "EdiOrder",
    "EdiSyntaxError",
    "interchange_key",
    "parse_edi",
]


@dataclass(frozen=True, slots=True)
class EdiLine:
    """One order line. ``item_ids`` holds every (qualifier, id) pair given, in message order."""

    line_no: int
    sku: str
    qty: Decimal
    uom: str | None
    due_date: date | None
    unit_price: Decimal | None = None
    sku_qualifier: str | None = None
    item_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EdiOrder:
    """One purchase order of the buyer, to become one sales order."""

    syntax: Syntax
    number: str
    customer: str
    order_date: date | None
    delivery_date: date | None
    lines: tuple[EdiLine, ...]
    interchange_control_ref: str
    message_ref: str
    sender: str
    recipient: str
    group_control_ref: str | None = None
    customer_name: str | None = None
    function_code: str | None = None


@dataclass(frozen=True, slots=True)
class EdiError:
    """One problem, located. ``message`` is complete and readable on its own."""

    message: str
    segment_tag: str | None = None
    segment_index: int | None = None
    element_position: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return self.message


class EdiSyntaxError(ValueError):
    """The interchange was refused; ``errors`` lists every problem found, in text order."""

    def __init__(self, errors: Iterable[EdiError]) -> None:
        self.errors: list[EdiError] = list(errors)
        count = len(self.errors)
        head = f"{count} EDI error{'s' if count != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(e.message for e in self.errors))


def interchange_key(order: EdiOrder) -> str:
    """A stable identity of the message: syntax, sender, interchange, group and message refs.

    Replaying the same interchange gives the same keys, so the service can refuse to book an order
    twice. The group reference is part of it because X12 ST02 is only unique within its group.
    Each part is percent-encoded, so the ``/`` separators are unambiguous.
    """
    parts = (
        order.syntax,
        order.sender,
        order.interchange_control_ref,
        order.group_control_ref or "",
        order.message_ref,
    )
    return "/".join(quote(p, safe="") for p in parts)


def parse_edi(text: str) -> list[EdiOrder]:
    """Parse an EDIFACT ORDERS or X12 850 interchange; raise :class:`EdiSyntaxError` if anything is wrong."""
    body = text.lstrip("\ufeff \t\r\n")
    errors = _Errors()
    orders: list[EdiOrder]
    if body.startswith("ISA"):
        orders = _X12(body, errors).parse()
    elif body.startswith(("UNA", "UNB")) or re.match(r"UN[GH][+]", body):
        orders = _Edifact(body, errors).parse()
    elif re.match(r"(GS|ST)[^A-Za-z0-9\s]", body):
        first = re.match(r"[A-Z0-9]+", body)
        tag = first.group(0) if first else None
        errors.add(
            None,
            f"segment 1 ({tag}): the X12 interchange header ISA is missing; "
            "an X12 interchange must start with ISA",
            tag=tag,
            index=1,
            field="ISA",
        )
        orders = []
    else:
        shown = body[:20]
        errors.add(
            None,
            "unknown EDI syntax: the text must start with UNA or UNB (UN/EDIFACT) or ISA (X12), "
            f"not {shown!r}"
            if body
            else "unknown EDI syntax: the text is empty",
            field="syntax",
        )
        orders = []
    if errors.items:
        # Text order; problems found at the same segment keep the order they were found in.
        raise EdiSyntaxError(sorted(errors.items, key=lambda e: e.segment_index or 0))
    return orders


# --- internals -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Segment:
    index: int
    elements: list[list[str]]  # elements[0][0] is the tag

    @property
    def tag(self) -> str:
        return self.elements[0][0] if self.elements and self.elements[0] else ""

    def value(self, position: int, component: int = 1) -> str:
        if position >= len(self.elements):
            return ""
        comps = self.elements[position]
        return comps[component - 1].strip() if component <= len(comps) else ""

    def components(self, position: int) -> list[str]:
        return [c.strip() for c in self.elements[position]] if position < len(self.elements) else []


class _Errors:
    def __init__(self) -> None:
        self.items: list[EdiError] = []

    def add(
        self,
        seg: _Segment | None,
        text: str,
        *,
        position: int | None = None,
        field: str | None = None,
        tag: str | None = None,
        index: int | None = None,
    ) -> None:
        if seg is not None:
            tag, index = seg.tag, seg.index
            where = f"segment {index} ({tag})"
            if position is not None:
                where += f", element {position}"
            text = f"{where}: {text}"
        self.items.append(EdiError(text, tag, index, position, field))


_NUMBER_EDIFACT = re.compile(r"-?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_NUMBER_X12 = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


def _decimal(raw: str, pattern: re.Pattern[str]) -> Decimal | None:
    if not pattern.fullmatch(raw):
        return None
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
        return None


def _year(two_digits: int) -> int:
    return 2000 + two_digits if two_digits < 50 else 1900 + two_digits


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


_EDIFACT_DATE_LENGTHS = {"102": 8, "203": 12, "204": 14, "101": 6}


def _edifact_date(value: str, fmt: str) -> tuple[date | None, str]:
    """The date, or ``None`` and the reason."""
    if not fmt:
        fmt = {8: "102", 12: "203", 14: "204", 6: "101"}.get(len(value), "")
        if not fmt:
            return None, f"date '{value}' has no format code and no recognisable length"
    length = _EDIFACT_DATE_LENGTHS.get(fmt)
    if length is None:
        return None, f"date format code '{fmt}' is not supported (use 102, 203, 204 or 101)"
    if len(value) != length or not value.isdigit():
        return None, f"date '{value}' does not match format {fmt} ({length} digits)"
    if fmt == "101":
        result = _make_date(_year(int(value[:2])), int(value[2:4]), int(value[4:6]))
    else:
        result = _make_date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if result is not None and fmt in ("203", "204"):
            hh, mm = int(value[8:10]), int(value[10:12])
            ss = int(value[12:14]) if fmt == "204" else 0
            if hh > 23 or mm > 59 or ss > 59:
                result = None
    if result is None:
        return None, f"date '{value}' (format {fmt}) is not a valid calendar date"
    return result, ""


def _x12_date(value: str) -> tuple[date | None, str]:
    if not value.isdigit() or len(value) not in (6, 8):
        return None, f"date '{value}' is not CCYYMMDD"
    if len(value) == 8:
        result = _make_date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    else:
        result = _make_date(_year(int(value[:2])), int(value[2:4]), int(value[4:6]))
    if result is None:
        return None, f"date '{value}' is not a valid calendar date"
    return result, ""


def _first(dates: dict[str, date], qualifiers: Sequence[str]) -> date | None:
    for q in qualifiers:
        if q in dates:
            return dates[q]
    return None


def _rank(qualifier: str, ranking: Sequence[frozenset[str]]) -> int:
    for rank, group in enumerate(ranking):
        if qualifier in group:
            return rank
    return len(ranking)


def _choose_sku(ids: list[tuple[str, str]], ranking: Sequence[frozenset[str]]) -> tuple[str, str]:
    # min() keeps the first of equal ranks: message order breaks ties.
    return min(ids, key=lambda pair: _rank(pair[0], ranking))


@dataclass(slots=True)
class _LineDraft:
    """What was read for one line before it is checked."""

    seg: _Segment
    ordinal: int
    line_no_raw: str
    ids: list[tuple[str, str]] = field(default_factory=list)
    qty_seg: _Segment | None = None
    qty_position: int = 1
    qty_raw: str = ""
    uom: str | None = None
    dates: dict[str, date] = field(default_factory=dict)
    unit_price: Decimal | None = None
    price_rank: int = 99


@dataclass(slots=True)
class _Header:
    number: str = ""
    function_code: str | None = None
    customer_id: str = ""
    customer_name: str = ""
    order_date: date | None = None
    dates: dict[str, date] = field(default_factory=dict)
    lines: list[_LineDraft] = field(default_factory=list)


def _finish_lines(
    drafts: list[_LineDraft],
    header_due: date | None,
    due_qualifiers: Sequence[str],
    ranking: Sequence[frozenset[str]],
    pattern: re.Pattern[str],
    errors: _Errors,
    *,
    id_position: int,
    id_field: str,
    qty_hint: str,
    qty_position: int | None,
) -> list[EdiLine]:
    lines: list[EdiLine] = []
    for draft in drafts:
        ok = True
        if not draft.ids:
            errors.add(
                draft.seg,
                f"line {draft.line_no_raw or draft.ordinal} has no item id",
                position=id_position,
                field=id_field,
            )
            ok = False
        qty: Decimal | None = None
        if draft.qty_seg is None:
            errors.add(
                draft.seg,
                f"line {draft.line_no_raw or draft.ordinal} has no ordered quantity ({qty_hint})",
                position=qty_position,
                field="quantity",
            )
            ok = False
        else:
            qty = _decimal(draft.qty_raw, pattern)
            if qty is None:
                errors.add(
                    draft.qty_seg,
                    f"quantity '{draft.qty_raw}' is not a number",
                    position=draft.qty_position,
                    field="quantity",
                )
                ok = False
            elif qty <= 0:
                errors.add(
                    draft.qty_seg,
                    f"quantity {draft.qty_raw} must be positive",
                    position=draft.qty_position,
                    field="quantity",
                )
                ok = False
        if not ok or qty is None:
            continue
        qualifier, sku = _choose_sku(draft.ids, ranking)
        raw_no = draft.line_no_raw
        lines.append(
            EdiLine(
                line_no=int(raw_no) if raw_no.isdigit() else draft.ordinal,
                sku=sku,
                qty=qty,
                uom=draft.uom or None,
                due_date=_first(draft.dates, due_qualifiers) or header_due,
                unit_price=draft.unit_price,
                sku_qualifier=qualifier or None,
                item_ids=tuple(draft.ids),
            )
        )
    return lines


# --- what both syntaxes share: the envelope walk, control checks, building the order ------------


class _Syntax:
    """One EDI syntax: the names of its envelope levels and the reading of one message; the walk
    through the envelope, its control counts and references, and the order are common.

    The levels are an interchange (``INTERCHANGE`` header and trailer tags), optional groups
    (``GROUP``) and units (``UNIT``: an EDIFACT message, an X12 transaction set)."""

    SYNTAX: Syntax
    INTERCHANGE: tuple[str, str]
    GROUP: tuple[str, str]
    UNIT: tuple[str, str]
    UNIT_NAME: str
    UNIT_REF_POSITION: int  # of the unit's reference in its header
    UNIT_REF: tuple[str, str]  # missing reference: message, field
    UNIT_COUNT: tuple[str, str]  # what the unit trailer counts (``{ref}``: the unit's reference), field
    UNIT_TRAILER_REF: tuple[str, str]  # label of the reference in the unit trailer, header field
    ORPHAN_TRAILER: str  # a unit trailer without its header
    OUTSIDE: str  # a segment outside every unit
    UNIT_OUTSIDE_GROUP: str | None = None  # set when a unit must be inside a group
    GROUP_REF: tuple[int, str, str]  # position in the group header, label, header field
    GROUP_COUNT: tuple[str, str]  # what the group trailer counts, field
    INTERCHANGE_COUNT_FIELD: str
    INTERCHANGE_REF: tuple[str, str]  # label, header field
    COUNT_UNITS_WITHOUT_GROUPS = False  # the interchange trailer counts units when there is no group
    NUMERIC_REFS = False  # references equal as numbers match ("0001" and "1")
    NO_ORDER: tuple[str, str]  # an interchange without any order: message, field
    LINE_TAG: str
    # Reading lines.
    DUE: tuple[str, ...]
    RANKING: tuple[frozenset[str], ...]
    NUMBER: re.Pattern[str]
    LINE_ID: tuple[int, str]  # position, field of the item id in the line segment
    QTY: tuple[str, int | None]  # where the quantity is expected, its position

    def __init__(self, errors: _Errors) -> None:
        self.errors = errors
        self.sender = self.recipient = self.icr = ""

    # -- the envelope --------------------------------------------------------------------------

    def walk(self, first: _Segment, rest: Sequence[_Segment], last: _Segment) -> list[EdiOrder]:
        """Groups and units of the interchange whose header is ``first`` (when it has the right
        tag) and whose other segments are ``rest``; ``last`` is the interchange's last segment."""
        errors = self.errors
        (ih, it), (gh, gt), (uh, ut) = self.INTERCHANGE, self.GROUP, self.UNIT
        orders: list[EdiOrder] = []
        unit: list[_Segment] | None = None
        group: _Segment | None = None
        group_units = units = groups = 0
        trailer: _Segment | None = None
        for seg in rest:
            tag = seg.tag
            if trailer is not None:
                errors.add(seg, f"segment after the interchange trailer {it}", field=it)
                continue
            if tag == uh:
                if unit is not None:
                    self._unterminated(unit[0], seg)
                    self._unit(unit, None, group, orders)
                if group is None and self.UNIT_OUTSIDE_GROUP:
                    errors.add(seg, self.UNIT_OUTSIDE_GROUP, field=gh)
                unit = [seg]
                units += 1
                group_units += 1
            elif tag == ut:
                if unit is None:
                    errors.add(seg, self.ORPHAN_TRAILER, field=uh)
                else:
                    unit.append(seg)
                    self._unit(unit, seg, group, orders)
                    unit = None
            elif tag in (gh, gt, it, ih):
                if unit is not None:
                    self._unterminated(unit[0], seg)
                    self._unit(unit, None, group, orders)
                    unit = None
                if tag == gh:
                    if group is not None:
                        errors.add(seg, f"group header {gh} before the trailer {gt} of the previous group")
                    group, group_units = seg, 0
                    groups += 1
                elif tag == gt:
                    if group is None:
                        errors.add(seg, f"group trailer {gt} without a group header {gh}", field=gh)
                    else:
                        self._control(seg, 1, group_units, *self.GROUP_COUNT)
                        position, label, header_field = self.GROUP_REF
                        self._reference(seg, 2, group.value(position), label, header_field, group)
                    group = None
                elif tag == ih:
                    errors.add(seg, f"a second interchange header {ih}; send one interchange per request")
                else:
                    trailer = seg
            elif unit is not None:
                unit.append(seg)
            else:
                errors.add(seg, self.OUTSIDE)
        if unit is not None:
            self._unterminated(unit[0], None)
            self._unit(unit, None, group, orders)
        if group is not None:
            errors.add(group, f"group trailer {gt} is missing", field=gt)
        if trailer is None:
            errors.add(last, f"the interchange trailer {it} is missing after this segment", field=it)
        elif first.tag == ih:
            by_units = self.COUNT_UNITS_WITHOUT_GROUPS and not groups
            what = f"{self.UNIT_NAME}s" if by_units else "functional groups"
            count = units if by_units else groups
            self._control(trailer, 1, count, f"{what} in the interchange", self.INTERCHANGE_COUNT_FIELD)
            self._reference(trailer, 2, self.icr, *self.INTERCHANGE_REF, first)
        if not orders and not errors.items:
            errors.add(first, self.NO_ORDER[0], field=self.NO_ORDER[1])
        return orders

    def _unterminated(self, header: _Segment, at: _Segment | None) -> None:
        where = f"before segment {at.index} ({at.tag})" if at else "at the end of the text"
        ref = header.value(self.UNIT_REF_POSITION)
        trailer = self.UNIT[1]
        self.errors.add(header, f"{self.UNIT_NAME} '{ref}' has no trailer {trailer} {where}", field=trailer)

    def _control(self, seg: _Segment, position: int, actual: int, what: str, field: str) -> None:
        raw = seg.value(position)
        if not raw.isdigit():
            self.errors.add(seg, f"control count '{raw}' is not a number", position=position, field=field)
        elif int(raw) != actual:
            self.errors.add(
                seg,
                f"control count {int(raw)} does not match the {actual} {what}",
                position=position,
                field=field,
            )

    def _reference(
        self, seg: _Segment, position: int, expected: str, what: str, header_name: str, header: _Segment
    ) -> None:
        raw = seg.value(position)
        if raw == expected or (
            self.NUMERIC_REFS and raw.isdigit() and expected.isdigit() and int(raw) == int(expected)
        ):
            return
        self.errors.add(
            seg,
            f"{what} '{raw}' does not match '{expected}' of {header_name} (segment {header.index})",
            position=position,
            field=what.rsplit("(", 1)[-1].rstrip(")"),
        )

    # -- one unit --------------------------------------------------------------------------------

    def _unit(
        self, segs: list[_Segment], trailer: _Segment | None, group: _Segment | None, orders: list[EdiOrder]
    ) -> None:
        """Check a unit's reference and trailer, read it (:meth:`_read`), and add its order."""
        errors = self.errors
        header = segs[0]
        ref = header.value(self.UNIT_REF_POSITION)
        if not ref:
            message, ref_field = self.UNIT_REF
            errors.add(header, message, position=self.UNIT_REF_POSITION, field=ref_field)
        if trailer is not None:
            what, count_field = self.UNIT_COUNT
            self._control(trailer, 1, len(segs), what.format(ref=ref), count_field)
            self._reference(trailer, 2, ref, *self.UNIT_TRAILER_REF, header)
        content = self._read(segs, trailer, ref)
        if content is None:
            return
        if not content.lines:
            errors.add(
                trailer or header,
                f"{self.UNIT_NAME} '{ref}' has no order line ({self.LINE_TAG})",
                field=self.LINE_TAG,
            )
        due = _first(content.dates, self.DUE)
        count = len(errors.items)
        lines = _finish_lines(
            content.lines,
            due,
            self.DUE,
            self.RANKING,
            self.NUMBER,
            errors,
            id_position=self.LINE_ID[0],
            id_field=self.LINE_ID[1],
            qty_hint=self.QTY[0],
            qty_position=self.QTY[1],
        )
        if len(errors.items) != count or not lines or not content.number:
            return
        orders.append(
            EdiOrder(
                syntax=self.SYNTAX,
                number=content.number,
                customer=self._customer(content),
                order_date=content.order_date,
                delivery_date=due,
                lines=tuple(lines),
                interchange_control_ref=self.icr,
                message_ref=ref,
                sender=self.sender,
                recipient=self.recipient,
                group_control_ref=group.value(self.GROUP_REF[0]) if group is not None else None,
                customer_name=content.customer_name or None,
                function_code=content.function_code,
            )
        )

    def _read(self, segs: list[_Segment], trailer: _Segment | None, ref: str) -> _Header | None:
        """The unit's type checked and its content read (errors noted); None: not an order."""
        raise NotImplementedError

    def _customer(self, header: _Header) -> str:
        raise NotImplementedError


# --- UN/EDIFACT ------------------------------------------------------------------------------

_EDIFACT_RANKING = (
    frozenset({"SA", "VN", "VP"}),
    frozenset({"IN", "BP"}),
    frozenset({"SRV", "EN", "UP"}),
)
_EDIFACT_ORDER_DATE = ("4", "137")
_EDIFACT_DUE = ("2", "64", "69")
_PRICE_QUALIFIERS = ("AAA", "AAB")  # net calculation price, then gross


class _Edifact(_Syntax):
    SYNTAX = "EDIFACT"
    INTERCHANGE = ("UNB", "UNZ")
    GROUP = ("UNG", "UNE")
    UNIT = ("UNH", "UNT")
    UNIT_NAME = "message"
    UNIT_REF_POSITION = 1
    UNIT_REF = ("message reference number (0062) is missing", "0062")
    UNIT_COUNT = ("segments of message '{ref}' (UNH to UNT)", "0074")
    UNIT_TRAILER_REF = ("message reference (0062)", "UNH")
    ORPHAN_TRAILER = "message trailer UNT without a message header UNH"
    OUTSIDE = "segment outside a message (UNH ... UNT)"
    GROUP_REF = (1, "group reference (0048)", "UNG")
    GROUP_COUNT = ("messages in the group", "0060")
    INTERCHANGE_COUNT_FIELD = "0036"
    INTERCHANGE_REF = ("interchange control reference (0020)", "UNB")
    COUNT_UNITS_WITHOUT_GROUPS = True
    NO_ORDER = ("the interchange contains no ORDERS message", "UNH")
    LINE_TAG = "LIN"
    DUE = _EDIFACT_DUE
    RANKING = _EDIFACT_RANKING
    NUMBER = _NUMBER_EDIFACT
    LINE_ID = (3, "7140")
    QTY = ("QTY+21", None)

    def __init__(self, text: str, errors: _Errors) -> None:
        super().__init__(errors)
        self.component, self.element, self.decimal, self.release, self.terminator = ":", "+", ".", "?", "'"
        self.text = text
        if text.startswith("UNA"):
            advice = text[3:9]
            if len(advice) < 6:
                errors.add(None, "the UNA service string advice must have 6 characters", field="UNA")
            else:
                self.component, self.element, self.decimal = advice[0], advice[1], advice[2]
                self.release = "" if advice[3] == " " else advice[3]
                self.terminator = advice[5]
            self.text = text[9:]

    def tokenize(self) -> list[_Segment]:
        text = self.text
        if self.terminator not in "\r\n":
            text = text.replace("\r", "").replace("\n", "")
        segments: list[_Segment] = []
        elements: list[list[str]] = []
        components: list[str] = []
        buf: list[str] = []
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == self.release and self.release:
                if i + 1 < n:
                    buf.append(text[i + 1])
                i += 2
                continue
            if c == self.component:
                components.append("".join(buf))
                buf = []
            elif c == self.element:
                components.append("".join(buf))
                elements.append(components)
                components, buf = [], []
            elif c == self.terminator:
                components.append("".join(buf))
                elements.append(components)
                segments.append(_Segment(len(segments) + 1, elements))
                elements, components, buf = [], [], []
            elif not buf and not components and not elements and c in " \t\r\n":
                pass  # whitespace between segments
            else:
                buf.append(c)
            i += 1
        if buf or components or elements:  # a last segment without its terminator
            components.append("".join(buf))
            elements.append(components)
            segments.append(_Segment(len(segments) + 1, elements))
        for seg in segments:
            seg.elements[0][0] = seg.elements[0][0].strip()
        return segments

    def parse(self) -> list[EdiOrder]:
        if self.errors.items:
            return []
        segments = self.tokenize()
        if not segments:
            self.errors.add(None, "the interchange has no segment after UNA", field="UNB")
            return []
        errors = self.errors
        first = segments[0]
        rest = segments
        if first.tag == "UNB":
            self.sender = first.value(2)
            self.recipient = first.value(3)
            self.icr = first.value(5)
            if not self.sender:
                errors.add(first, "interchange sender (S002 0004) is missing", position=2, field="0004")
            if not self.icr:
                errors.add(first, "interchange control reference (0020) is missing", position=5, field="0020")
            rest = segments[1:]
        else:
            errors.add(
                first,
                "the interchange header UNB is missing; an EDIFACT interchange must start with UNB "
                "(after an optional UNA)",
                field="UNB",
            )

        return self.walk(first, rest, segments[-1])

    def _read(self, segs: list[_Segment], trailer: _Segment | None, ref: str) -> _Header | None:
        errors = self.errors
        unh = segs[0]
        msg_type, version = unh.value(2, 1), unh.value(2, 2)
        if msg_type != "ORDERS":
            errors.add(unh, f"message type '{msg_type}' is not ORDERS", position=2, field="0065")
            return None
        if version != "D":
            errors.add(
                unh,
                f"message version '{version}:{unh.value(2, 3)}' is not a UN directory D release (D:96A)",
                position=2,
                field="0052",
            )
            return None
        header = self._content(segs[1:-1] if trailer is not None else segs[1:])
        if not header.number:
            bgm = next((s for s in segs if s.tag == "BGM"), None)
            if bgm is None:
                errors.add(
                    unh, f"message '{ref}' has no BGM segment: the order number is missing", field="1004"
                )
            else:
                errors.add(bgm, "the order number (1004) is empty", position=2, field="1004")
        return header

    def _customer(self, header: _Header) -> str:
        return header.customer_id or self.sender

    def _content(self, segs: list[_Segment]) -> _Header:
        errors = self.errors
        header = _Header()
        line: _LineDraft | None = None
        summary = False
        for seg in segs:
            tag = seg.tag
            if tag == "UNS":
                summary, line = True, None
            elif summary:
                continue
            elif tag == "BGM" and not header.number:
                header.number = seg.value(2)
                header.function_code = seg.value(3) or None
            elif tag == "DTM":
                qualifier, value, fmt = seg.value(1, 1), seg.value(1, 2), seg.value(1, 3)
                wanted = _EDIFACT_DUE if line is not None else _EDIFACT_DUE + _EDIFACT_ORDER_DATE
                if qualifier not in wanted:
                    continue
                parsed, why = _edifact_date(value, fmt)
                if parsed is None:
                    errors.add(seg, why, position=1, field="2380")
                    continue
                target = line.dates if line is not None else header.dates
                target.setdefault(qualifier, parsed)
                if line is None and qualifier in _EDIFACT_ORDER_DATE:
                    header.order_date = _first(header.dates, _EDIFACT_ORDER_DATE)
            elif tag == "NAD" and line is None and seg.value(1) == "BY":
                header.customer_id = seg.value(2)
                name = " ".join(c for c in seg.components(4) if c) or " ".join(
                    c for c in seg.components(3) if c
                )
                header.customer_name = name
            elif tag == "LIN":
                line = _LineDraft(seg, len(header.lines) + 1, seg.value(1))
                header.lines.append(line)
                if seg.value(3):
                    line.ids.append((seg.value(3, 2), seg.value(3)))
            elif line is None:
                continue
            elif tag == "PIA" and seg.value(1) in ("1", "5", ""):
                for position in range(2, len(seg.elements)):
                    if seg.value(position):
                        line.ids.append((seg.value(position, 2), seg.value(position)))
            elif tag == "QTY" and seg.value(1, 1) == "21":
                if line.qty_seg is not None:
                    errors.add(
                        seg,
                        f"a second ordered quantity for line {line.line_no_raw or line.ordinal} "
                        "(delivery schedules are not supported: send one line per date)",
                        position=1,
                        field="6060",
                    )
                    continue
                line.qty_seg, line.qty_position, line.qty_raw = seg, 1, seg.value(1, 2)
                line.uom = seg.value(1, 3) or None
            elif tag == "PRI" and seg.value(1, 1) in _PRICE_QUALIFIERS:
                self._price(seg, line)
        return header

    def _price(self, seg: _Segment, line: _LineDraft) -> None:
        rank = _PRICE_QUALIFIERS.index(seg.value(1, 1))
        raw = seg.value(1, 2)
        if not raw:
            return
        price = _decimal(raw, _NUMBER_EDIFACT)
        if price is None:
            self.errors.add(seg, f"price '{raw}' is not a number", position=1, field="5118")
            return
        basis_raw = seg.value(1, 5)
        if basis_raw:
            basis = _decimal(basis_raw, _NUMBER_EDIFACT)
            if basis is None or basis <= 0:
                self.errors.add(
                    seg, f"unit price basis '{basis_raw}' is not a positive number", position=1, field="5284"
                )
                return
            price = price / basis
        if rank < line.price_rank:
            line.unit_price, line.price_rank = price, rank


# --- ANSI X12 --------------------------------------------------------------------------------

_X12_RANKING = (
    frozenset({"VP", "VN"}),
    frozenset({"BP", "IN", "PI", "CB", "SK"}),
    frozenset({"UP", "EN", "UK", "UI"}),
)
_X12_DUE = ("002", "010")


class _X12(_Syntax):
    SYNTAX = "X12"
    INTERCHANGE = ("ISA", "IEA")
    GROUP = ("GS", "GE")
    UNIT = ("ST", "SE")
    UNIT_NAME = "transaction set"
    UNIT_REF_POSITION = 2
    UNIT_REF = ("transaction set control number (ST02) is missing", "ST02")
    UNIT_COUNT = ("segments of transaction set '{ref}' (ST to SE)", "SE01")
    UNIT_TRAILER_REF = ("transaction set control number (SE02)", "ST02")
    ORPHAN_TRAILER = "transaction set trailer SE without a header ST"
    OUTSIDE = "segment outside a transaction set (ST ... SE)"
    UNIT_OUTSIDE_GROUP = "transaction set outside a functional group (GS ... GE)"
    GROUP_REF = (6, "group control number (GE02)", "GS06")
    GROUP_COUNT = ("transaction sets in the group", "GE01")
    INTERCHANGE_COUNT_FIELD = "IEA01"
    INTERCHANGE_REF = ("interchange control number (IEA02)", "ISA13")
    NUMERIC_REFS = True
    NO_ORDER = ("the interchange contains no 850 transaction set", "ST")
    LINE_TAG = "PO1"
    DUE = _X12_DUE
    RANKING = _X12_RANKING
    NUMBER = _NUMBER_X12
    LINE_ID = (7, "PO107")
    QTY = ("PO102", 2)

    def __init__(self, text: str, errors: _Errors) -> None:
        super().__init__(errors)
        self.text = text

    def tokenize(self) -> list[_Segment] | None:
        text = self.text
        element = text[3] if len(text) > 3 else ""
        if not element or element.isalnum() or element.isspace():
            self.errors.add(
                None, "segment 1 (ISA): no element separator after ISA", tag="ISA", index=1, field="ISA"
            )
            return None
        position = 3
        for _ in range(15):
            position = text.find(element, position + 1)
            if position < 0:
                break
        if position < 0 or position + 2 >= len(text):
            self.errors.add(
                None,
                "segment 1 (ISA): the ISA segment is incomplete "
                "(16 elements and a segment terminator expected)",
                tag="ISA",
                index=1,
                field="ISA16",
            )
            return None
        component, terminator = text[position + 1], text[position + 2]
        segments: list[_Segment] = []
        for chunk in text.split(terminator):
            raw = chunk.strip()
            if not raw:
                continue
            values = raw.split(element)
            # ISA16 is the component separator itself: ISA elements are never split.
            split = values[0] != "ISA"
            elements = [v.split(component) if split else [v] for v in values]
            segments.append(_Segment(len(segments) + 1, elements))
        return segments

    def parse(self) -> list[EdiOrder]:
        segments = self.tokenize()
        if segments is None:
            return []
        errors = self.errors
        isa = segments[0]
        self.sender, self.recipient, self.icr = isa.value(6), isa.value(8), isa.value(13)
        if not self.sender:
            errors.add(isa, "interchange sender id (ISA06) is missing", position=6, field="ISA06")
        if not self.icr:
            errors.add(isa, "interchange control number (ISA13) is missing", position=13, field="ISA13")
        return self.walk(isa, segments[1:], segments[-1])

    def _read(self, segs: list[_Segment], trailer: _Segment | None, ref: str) -> _Header | None:
        errors = self.errors
        st = segs[0]
        if st.value(1) != "850":
            errors.add(
                st, f"transaction set '{st.value(1)}' is not an 850 purchase order", position=1, field="ST01"
            )
            return None
        header = self._content(segs[1:-1] if trailer is not None else segs[1:])
        beg = next((s for s in segs if s.tag == "BEG"), None)
        if beg is None:
            errors.add(
                st, f"transaction set '{ref}' has no BEG segment: the order number is missing", field="BEG03"
            )
        elif not header.number:
            errors.add(beg, "the purchase order number (BEG03) is empty", position=3, field="BEG03")
        return header

    def _customer(self, header: _Header) -> str:
        return header.customer_id or header.customer_name or self.sender

    def _content(self, segs: list[_Segment]) -> _Header:
        errors = self.errors
        header = _Header()
        line: _LineDraft | None = None
        for seg in segs:
            tag = seg.tag
            if tag == "CTT":
                break
            if tag == "BEG" and not header.number:
                header.number = seg.value(3)
                header.function_code = seg.value(1) or None
                if seg.value(5):
                    header.order_date, why = _x12_date(seg.value(5))
                    if header.order_date is None:
                        errors.add(seg, why, position=5, field="BEG05")
            elif tag == "DTM" and seg.value(1) in _X12_DUE:
                parsed, why = _x12_date(seg.value(2))
                if parsed is None:
                    errors.add(seg, why, position=2, field="DTM02")
                else:
                    (line.dates if line is not None else header.dates).setdefault(seg.value(1), parsed)
            elif tag == "N1" and line is None and seg.value(1) == "BY":
                header.customer_id, header.customer_name = seg.value(4), seg.value(2)
            elif tag == "PO1":
                line = _LineDraft(seg, len(header.lines) + 1, seg.value(1))
                header.lines.append(line)
                for position in range(6, len(seg.elements) - 1, 2):
                    if seg.value(position + 1):
                        line.ids.append((seg.value(position), seg.value(position + 1)))
                if seg.value(2):
                    line.qty_seg, line.qty_position, line.qty_raw = seg, 2, seg.value(2)
                line.uom = seg.value(3) or None
                if seg.value(4):
                    line.unit_price = _decimal(seg.value(4), _NUMBER_X12)
                    if line.unit_price is None:
                        errors.add(
                            seg, f"unit price '{seg.value(4)}' is not a number", position=4, field="PO104"
                        )
            elif tag == "SCH" and line is not None:
                errors.add(
                    seg,
                    "line delivery schedules (SCH) are not supported: send one PO1 per date",
                    field="SCH",
                )
        return header
