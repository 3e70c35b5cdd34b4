from datetime import date

from services.masterdata.domain.history import FieldChange, diff_records
from services.masterdata.domain.model import Calendar, LotSizing
from tests.unit.masterdata.factories import D, bom, line, make, op, routing


def test_reports_each_changed_leaf_field_with_old_and_new_value() -> None:
    old = make("GEAR", lead=2, lot_sizing=LotSizing(min_qty=None))
    new = make("GEAR", lead=5, lot_sizing=LotSizing(min_qty=D(10)))
    assert diff_records(old, new) == [
        FieldChange("lead_time_days", 2, 5),
        FieldChange("lot_sizing/min_qty", None, D(10)),
    ]


def test_an_equal_quantity_written_differently_is_no_change() -> None:
    assert diff_records(make("GEAR", safety_stock=D("1.0")), make("GEAR", safety_stock=D("1"))) == []


def test_a_line_inserted_in_a_bom_is_one_addition_matched_by_component() -> None:
    old = bom("FRAME", line("FRAME", "TUBE"), line("FRAME", "BOLT", "4"))
    new = bom("FRAME", line("FRAME", "TUBE"), line("FRAME", "WELD-WIRE", "0.2"), line("FRAME", "BOLT", "6"))
    assert diff_records(old, new) == [
        FieldChange("lines/WELD-WIRE", None, line("FRAME", "WELD-WIRE", "0.2")),
        FieldChange("lines/BOLT/qty_per", D(4), D(6)),
    ]


def test_bom_lines_of_one_component_are_told_apart_by_their_start_date() -> None:
    old = bom("FRAME", line("FRAME", "TUBE", until=date(2026, 7, 1)))
    new = bom(
        "FRAME",
        line("FRAME", "TUBE", until=date(2026, 7, 1)),
        line("FRAME", "TUBE", "2", since=date(2026, 7, 1)),
    )
    assert [c.field for c in diff_records(old, new)] == ["lines/TUBE@2026-07-01"]


def test_operations_are_matched_by_seq_and_removals_come_last() -> None:
    old = routing("FRAME", op(10, "WELD", setup="30"), op(20, "PAINT"))
    new = routing("FRAME", op(10, "WELD", setup="45"))
    assert diff_records(old, new) == [
        FieldChange("operations/10/setup_minutes", D(30), D(45)),
        FieldChange("operations/20", op(20, "PAINT"), None),
    ]


def test_creation_and_deletion_are_one_change_of_the_whole_record() -> None:
    gear = make("GEAR")
    assert diff_records(None, gear) == [FieldChange("", None, gear)]
    assert diff_records(gear, None) == [FieldChange("", gear, None)]


def test_shifts_of_a_calendar_are_compared_by_position_under_their_weekday() -> None:
    old = Calendar("plant", {"mon": (("06:00", "14:00"),)})
    new = Calendar("plant", {"mon": (("06:00", "15:00"),), "tue": (("06:00", "14:00"),)})
    assert diff_records(old, new) == [
        FieldChange("weekdays/mon/0/1", "14:00", "15:00"),
        FieldChange("weekdays/tue", None, (("06:00", "14:00"),)),
    ]
