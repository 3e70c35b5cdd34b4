"""Parsing planners' CSV files: separators, decimal commas, dates, and errors named file:line:column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.masterdata.csv_import import (
    CellError,
    parse_date,
    parse_decimal,
    parse_files,
    sniff_delimiter,
)
from services.masterdata.domain.model import ItemKind, LotSizingRule


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,5", "1.5"),
        ("1.5", "1.5"),
        ("1 234,5", "1234.5"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("-2", "-2"),
    ],
)
def test_numbers_take_a_decimal_comma_or_point(text: str, value: str) -> None:
    assert parse_decimal(text) == Decimal(value)


def test_a_word_is_not_a_number() -> None:
    with pytest.raises(CellError) as err:
        parse_decimal("soon")
    assert err.value.code == "not_a_number"


def test_dates_are_iso_or_day_first() -> None:
    assert parse_date("2026-03-01") == date(2026, 3, 1)
    assert parse_date("01/03/2026") == date(2026, 3, 1)
    assert parse_date("01.03.2026") == date(2026, 3, 1)
    with pytest.raises(CellError):
        parse_date("31/02/2026")


def test_the_separator_is_the_one_the_header_uses() -> None:
    assert sniff_delimiter("sku;name;uom") == ";"
    assert sniff_delimiter("sku,name,uom") == ","
    assert sniff_delimiter("sku\tname") == "\t"


def test_items_parse_with_defaults_for_blank_cells() -> None:
    data = (
        "SKU ; Name ; UOM ; Kind ; lot_rule ; lot_qty ; phantom\n"
        "A;Alpha;EA;MAKE;fixed;12,5;x\nB;Beta;EA;buy;;;\n"
    )
    batch = parse_files({"items": data.encode("cp1252")})
    assert batch.issues == []
    a, b = batch.items
    assert (a.kind, a.lot_sizing.rule, a.lot_sizing.quantity, a.phantom) == (
        ItemKind.MAKE,
        LotSizingRule.FIXED,
        Decimal("12.5"),
        True,
    )
    assert (b.kind, b.lot_sizing.rule, b.lead_time_days, b.phantom) == (
        ItemKind.BUY,
        LotSizingRule.LOT_FOR_LOT,
        0,
        False,
    )


def test_every_bad_cell_is_named_file_line_column() -> None:
    data = "sku,uom,kind,lead_time_days\nA,EA,make,3\n\nB,EA,steal,soon\n,EA,buy,1\n"
    batch = parse_files({"items": data.encode()})
    assert [i.field for i in batch.issues] == [
        "items.csv:4:kind",
        "items.csv:4:lead_time_days",
        "items.csv:5:sku",
    ]
    assert [i.sku for i in batch.items] == ["A"]


def test_a_missing_column_is_named_on_the_header_line() -> None:
    batch = parse_files({"boms": b"parent;component\nA;B\n"})
    assert [(i.field, i.code) for i in batch.issues] == [("boms.csv:1:qty_per", "missing_column")]


def test_bom_rows_group_by_parent_and_map_validation_pointers_back_to_cells() -> None:
    data = "parent;component;qty_per;scrap_pct;valid_from;valid_to\nP;A;1;;;\nQ;B;2;5;01/01/2026;\nP;C;3;;;\n"
    batch = parse_files({"boms": data.encode()})
    assert [(b.parent, [ln.component for ln in b.lines]) for b in batch.boms] == [
        ("P", ["A", "C"]),
        ("Q", ["B"]),
    ]
    assert batch.boms[1].lines[0].valid_from == date(2026, 1, 1)
    assert batch.field_of("boms/P/lines/1/qty_per") == "boms.csv:4:qty_per"
    assert batch.field_of("boms/Q") == "boms.csv:3:parent"
    assert batch.field_of("items/Z/uom") == "items/Z/uom"


def test_routing_rows_make_operations_and_alternates() -> None:
    data = (
        "sku,seq,work_center,setup_minutes,run_minutes_per_unit,alternate_work_center,alternate_run_minutes_per_unit\n"
        'S,10,W1,5,1,,\nS,20,W2,0,2,W3,"2,5"\nS,20,W2,0,2,W4,3\n'
    )
    batch = parse_files({"routings": data.encode()})
    (routing,) = batch.routings
    assert [op.seq for op in routing.operations] == [10, 20]
    assert [(a.work_center, a.run_minutes_per_unit) for a in routing.operations[1].alternates] == [
        ("W3", Decimal("2.5")),
        ("W4", Decimal(3)),
    ]
    assert (
        batch.field_of("routings/S/operations/1/alternates/1/work_center")
        == "routings.csv:4:alternate_work_center"
    )
    assert batch.field_of("routings/S/operations/0/work_center") == "routings.csv:2:work_center"
