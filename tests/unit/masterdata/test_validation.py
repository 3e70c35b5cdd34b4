from datetime import UTC, date, datetime
from decimal import Decimal

from services.masterdata.domain.model import (
    Alternate,
    Calendar,
    CalendarException,
    ExceptionKind,
    LotSizing,
    LotSizingRule,
    Machine,
    MasterDataBatch,
    Operation,
    Supplier,
    SupplierItem,
    UnitConversion,
    WorkCenter,
)
from services.masterdata.domain.validation import ValidationIssue, validate_batch
from tests.unit.masterdata.factories import D, bom, buy, existing, line, make, op, routing, work_center


def issues(batch: MasterDataBatch) -> list[ValidationIssue]:
    return validate_batch(batch, existing())


def one_issue(batch: MasterDataBatch) -> ValidationIssue:
    found = issues(batch)
    assert len(found) == 1, found
    return found[0]


def test_accepts_a_consistent_batch_that_references_existing_and_new_records() -> None:
    batch = MasterDataBatch(
        items=(make("SADDLE"), buy("SEAT-FOAM", uom="G")),
        boms=(bom("SADDLE", line("SADDLE", "SEAT-FOAM", "250"), line("SADDLE", "TUBE", "200", uom="G")),),
        routings=(routing("SADDLE", op(10, "WELD"), op(20, "PAINT")),),
        work_centers=(work_center("PAINT", calendar="night"),),
        calendars=(Calendar("night", {"mon": (("22:00", "06:00"),), "tue": (("06:00", "14:00"),)}),),
        suppliers=(Supplier("ACME", items=(SupplierItem("SEAT-FOAM", 5, D(1000), D(500), D("0.02"), 1),)),),
    )
    assert issues(batch) == []


def test_reports_an_unknown_component() -> None:
    batch = MasterDataBatch(boms=(bom("FRAME", line("FRAME", "TUBE"), line("FRAME", "NOPE")),))
    assert one_issue(batch) == ValidationIssue(
        "boms/FRAME", "boms/FRAME/lines/1/component", "unknown item 'NOPE'", "unknown_reference"
    )


def test_reports_a_bom_whose_parent_is_no_item() -> None:
    batch = MasterDataBatch(boms=(bom("GHOST", line("GHOST", "TUBE")),))
    assert one_issue(batch) == ValidationIssue(
        "boms/GHOST", "boms/GHOST", "unknown item 'GHOST'", "unknown_reference"
    )


def test_reports_an_unknown_work_center_in_an_operation_and_in_an_alternate() -> None:
    operation = Operation(10, "LATHE", D(0), D(1), (Alternate("WELD", D(2)), Alternate("MILL", D(2))))
    found = issues(MasterDataBatch(routings=(routing("FRAME", operation),)))
    assert found == [
        ValidationIssue(
            "routings/FRAME",
            "routings/FRAME/operations/0/work_center",
            "unknown work center 'LATHE'",
            "unknown_reference",
        ),
        ValidationIssue(
            "routings/FRAME",
            "routings/FRAME/operations/0/alternates/1/work_center",
            "unknown work center 'MILL'",
            "unknown_reference",
        ),
    ]


def test_reports_an_unknown_calendar_of_a_work_center() -> None:
    batch = MasterDataBatch(work_centers=(work_center("PAINT", calendar="weekend"),))
    assert one_issue(batch) == ValidationIssue(
        "work_centers/PAINT", "work_centers/PAINT/calendar", "unknown calendar 'weekend'", "unknown_reference"
    )


def test_reports_an_unknown_family_and_an_unknown_unit_of_an_item() -> None:
    found = issues(MasterDataBatch(items=(make("GEAR", uom="LB", family="GEARS"),)))
    assert found == [
        ValidationIssue("items/GEAR", "items/GEAR/uom", "unknown unit 'LB'", "unknown_reference"),
        ValidationIssue("items/GEAR", "items/GEAR/family", "unknown family 'GEARS'", "unknown_reference"),
    ]


def test_reports_an_unknown_supplier_sku() -> None:
    batch = MasterDataBatch(suppliers=(Supplier("ACME", items=(SupplierItem("BOLT"), SupplierItem("NUT"))),))
    assert one_issue(batch) == ValidationIssue(
        "suppliers/ACME", "suppliers/ACME/items/1/sku", "unknown item 'NUT'", "unknown_reference"
    )


def test_reports_an_exception_naming_an_unknown_machine() -> None:
    window = CalendarException(
        datetime(2026, 3, 2, 8, tzinfo=UTC),
        datetime(2026, 3, 2, 12, tzinfo=UTC),
        ExceptionKind.MAINTENANCE,
        "M-9",
    )
    batch = MasterDataBatch(calendars=(Calendar("plant", {"mon": (("08:00", "16:00"),)}, (), (window,)),))
    assert one_issue(batch) == ValidationIssue(
        "calendars/plant",
        "calendars/plant/exceptions/0/machine",
        "unknown machine 'M-9'",
        "unknown_reference",
    )


def test_reports_a_cycle_through_existing_boms_with_its_path() -> None:
    # existing: BIKE → FRAME → TUBE; the batch makes TUBE contain BIKE
    batch = MasterDataBatch(boms=(bom("TUBE", line("TUBE", "BIKE")),))
    assert one_issue(batch) == ValidationIssue(
        "boms/TUBE",
        "boms/TUBE/lines/0/component",
        "BOM cycle: TUBE → BIKE → FRAME → TUBE",
        "bom_cycle",
    )


def test_reports_an_item_that_is_its_own_component() -> None:
    batch = MasterDataBatch(boms=(bom("WHEEL", line("WHEEL", "BOLT"), line("WHEEL", "WHEEL")),))
    assert one_issue(batch) == ValidationIssue(
        "boms/WHEEL", "boms/WHEEL/lines/1/component", "BOM cycle: WHEEL → WHEEL", "bom_cycle"
    )


def test_accepts_a_batch_that_replaces_the_bom_closing_a_cycle() -> None:
    # TUBE → FRAME would close a cycle with the existing FRAME → TUBE, but the batch replaces FRAME's BOM
    batch = MasterDataBatch(
        boms=(bom("FRAME", line("FRAME", "BOLT")), bom("TUBE", line("TUBE", "FRAME"))),
    )
    assert issues(batch) == []


def test_reports_a_quantity_per_that_is_not_positive() -> None:
    batch = MasterDataBatch(boms=(bom("FRAME", line("FRAME", "TUBE", "0")),))
    assert one_issue(batch) == ValidationIssue(
        "boms/FRAME", "boms/FRAME/lines/0/qty_per", "qty_per must be greater than 0, got 0", "not_positive"
    )


def test_reports_a_negative_lead_time() -> None:
    assert one_issue(MasterDataBatch(items=(make("GEAR", lead=-2),))) == ValidationIssue(
        "items/GEAR", "items/GEAR/lead_time_days", "lead_time_days must not be negative, got -2", "negative"
    )


def test_reports_an_efficiency_of_zero() -> None:
    batch = MasterDataBatch(work_centers=(work_center("PAINT", efficiency="0"),))
    assert one_issue(batch) == ValidationIssue(
        "work_centers/PAINT",
        "work_centers/PAINT/efficiency",
        "efficiency must be greater than 0, got 0",
        "not_positive",
    )


def test_reports_a_scrap_of_a_hundred_percent() -> None:
    batch = MasterDataBatch(boms=(bom("FRAME", line("FRAME", "TUBE", scrap="100")),))
    assert one_issue(batch) == ValidationIssue(
        "boms/FRAME",
        "boms/FRAME/lines/0/scrap_pct",
        "scrap_pct must be at least 0 and below 100, got 100",
        "out_of_range",
    )


def test_reports_a_quantity_that_is_not_a_number() -> None:
    item = buy("NUT", safety_stock=Decimal("NaN"))
    assert one_issue(MasterDataBatch(items=(item,))) == ValidationIssue(
        "items/NUT", "items/NUT/safety_stock", "safety_stock must be a finite number, got NaN", "not_a_number"
    )


def test_reports_negative_operation_minutes_and_supplier_price() -> None:
    found = issues(
        MasterDataBatch(
            routings=(routing("FRAME", op(10, "WELD", setup="-5")),),
            suppliers=(Supplier("ACME", items=(SupplierItem("BOLT", price=D("-0.1")),)),),
        )
    )
    assert [(i.field, i.code) for i in found] == [
        ("routings/FRAME/operations/0/setup_minutes", "negative"),
        ("suppliers/ACME/items/0/price", "negative"),
    ]


def test_reports_overlapping_effectivity_of_the_same_component() -> None:
    batch = MasterDataBatch(
        boms=(
            bom(
                "FRAME",
                line("FRAME", "TUBE", "1.5", until=date(2026, 7, 1)),
                line("FRAME", "BOLT", "4"),
                line("FRAME", "TUBE", "1.2", since=date(2026, 6, 1)),
            ),
        )
    )
    assert one_issue(batch) == ValidationIssue(
        "boms/FRAME",
        "boms/FRAME/lines/2/valid_from",
        "effectivity [2026-06-01, open) of component 'TUBE' overlaps line 0 [open, 2026-07-01)",
        "overlapping_effectivity",
    )


def test_accepts_effectivity_periods_that_touch() -> None:
    batch = MasterDataBatch(
        boms=(
            bom(
                "FRAME",
                line("FRAME", "TUBE", "1.5", until=date(2026, 7, 1)),
                line("FRAME", "TUBE", "1.2", since=date(2026, 7, 1)),
            ),
        )
    )
    assert issues(batch) == []


def test_reports_an_effectivity_that_ends_before_it_starts() -> None:
    batch = MasterDataBatch(
        boms=(bom("FRAME", line("FRAME", "TUBE", since=date(2026, 7, 1), until=date(2026, 7, 1))),)
    )
    assert one_issue(batch) == ValidationIssue(
        "boms/FRAME",
        "boms/FRAME/lines/0/valid_to",
        "valid_to 2026-07-01 is not after valid_from 2026-07-01",
        "invalid_period",
    )


def test_reports_a_routing_without_operations() -> None:
    assert one_issue(MasterDataBatch(routings=(routing("FRAME"),))) == ValidationIssue(
        "routings/FRAME", "routings/FRAME/operations", "a routing needs at least one operation", "empty"
    )


def test_reports_a_duplicate_operation_seq() -> None:
    batch = MasterDataBatch(routings=(routing("FRAME", op(10, "WELD"), op(20, "WELD"), op(10, "WELD")),))
    assert one_issue(batch) == ValidationIssue(
        "routings/FRAME",
        "routings/FRAME/operations/2/seq",
        "seq 10 is already used by operation 0",
        "duplicate",
    )


def test_reports_overlapping_shifts_on_the_same_day() -> None:
    cal = Calendar("two", {"tue": (("06:00", "14:00"), ("13:30", "22:00"))})
    assert one_issue(MasterDataBatch(calendars=(cal,))) == ValidationIssue(
        "calendars/two",
        "calendars/two/weekdays/tue/1",
        "shift 13:30–22:00 on tue overlaps shift 06:00–14:00 on tue",
        "overlapping_shifts",
    )


def test_reports_a_night_shift_spilling_into_the_next_days_first_shift() -> None:
    cal = Calendar("night", {"mon": (("22:00", "06:00"),), "tue": (("05:00", "13:00"),)})
    assert one_issue(MasterDataBatch(calendars=(cal,))) == ValidationIssue(
        "calendars/night",
        "calendars/night/weekdays/tue/0",
        "shift 05:00–13:00 on tue overlaps shift 22:00–06:00 on mon",
        "overlapping_shifts",
    )


def test_reports_a_sunday_night_shift_spilling_into_monday() -> None:
    cal = Calendar("night", {"mon": (("00:00", "08:00"),), "sun": (("23:00", "01:00"),)})
    assert one_issue(MasterDataBatch(calendars=(cal,))) == ValidationIssue(
        "calendars/night",
        "calendars/night/weekdays/mon/0",
        "shift 00:00–08:00 on mon overlaps shift 23:00–01:00 on sun",
        "overlapping_shifts",
    )


def test_reports_malformed_times_and_an_unknown_weekday() -> None:
    cal = Calendar("bad", {"mon": (("8:00", "24:00"), ("16:00", "24:30")), "monday": ()})
    assert issues(MasterDataBatch(calendars=(cal,))) == [
        ValidationIssue(
            "calendars/bad",
            "calendars/bad/weekdays/mon/0/0",
            "'8:00' is not a time of day as HH:MM (00:00–23:59)",
            "malformed_time",
        ),
        ValidationIssue(
            "calendars/bad",
            "calendars/bad/weekdays/mon/1/1",
            "'24:30' is not a time of day as HH:MM (00:00–24:00)",
            "malformed_time",
        ),
        ValidationIssue(
            "calendars/bad",
            "calendars/bad/weekdays/monday",
            "'monday' is not a weekday (mon, tue, wed, thu, fri, sat, sun)",
            "unknown_weekday",
        ),
    ]


def test_reports_an_exception_ending_before_it_starts_and_a_timestamp_without_offset() -> None:
    back = CalendarException(
        datetime(2026, 3, 2, 12, tzinfo=UTC), datetime(2026, 3, 2, 8, tzinfo=UTC), ExceptionKind.CLOSED
    )
    naive = CalendarException(
        datetime(2026, 3, 3, 8), datetime(2026, 3, 3, 9, tzinfo=UTC), ExceptionKind.OVERTIME
    )
    cal = Calendar("plant", {"mon": (("08:00", "16:00"),)}, (), (back, naive))
    assert issues(MasterDataBatch(calendars=(cal,))) == [
        ValidationIssue(
            "calendars/plant",
            "calendars/plant/exceptions/0/end",
            "end 2026-03-02T08:00:00+00:00 is not after start 2026-03-02T12:00:00+00:00",
            "invalid_period",
        ),
        ValidationIssue(
            "calendars/plant",
            "calendars/plant/exceptions/1/start",
            "a timestamp needs a UTC offset",
            "malformed_time",
        ),
    ]


def test_reports_a_bom_line_unit_without_conversion_to_the_components_unit() -> None:
    batch = MasterDataBatch(
        boms=(bom("FRAME", line("FRAME", "TUBE", "1500", uom="G"), line("FRAME", "BOLT", uom="BOX")),)
    )
    assert one_issue(batch) == ValidationIssue(
        "boms/FRAME",
        "boms/FRAME/lines/1/uom",
        "no conversion from BOX to EA for item 'BOLT'",
        "unknown_conversion",
    )


def test_accepts_an_item_specific_conversion_for_a_supplier_unit() -> None:
    batch = MasterDataBatch(
        unit_conversions=(UnitConversion("BOX", "EA", D(50), sku="BOLT"),),
        suppliers=(Supplier("ACME", items=(SupplierItem("BOLT", uom="BOX"),)),),
    )
    assert issues(batch) == []


def test_reports_a_unit_conversion_between_unknown_or_identical_units() -> None:
    batch = MasterDataBatch(
        unit_conversions=(UnitConversion("KG", "LB", D("2.2")), UnitConversion("EA", "EA", D(-1)))
    )
    assert issues(batch) == [
        ValidationIssue(
            "unit_conversions/0", "unit_conversions/0/to_uom", "unknown unit 'LB'", "unknown_reference"
        ),
        ValidationIssue(
            "unit_conversions/1",
            "unit_conversions/1/factor",
            "factor must be greater than 0, got -1",
            "not_positive",
        ),
        ValidationIssue(
            "unit_conversions/1",
            "unit_conversions/1/to_uom",
            "a conversion needs two different units",
            "invalid_value",
        ),
    ]


def test_reports_a_key_given_twice_in_the_batch() -> None:
    found = issues(MasterDataBatch(items=(make("GEAR"), make("GEAR"))))
    assert found == [
        ValidationIssue(
            "items/GEAR", "items/GEAR", "'GEAR' is given more than once in items", "duplicate_key"
        )
    ]


def test_reports_inconsistent_lot_sizing() -> None:
    fixed = make("A", lot_sizing=LotSizing(LotSizingRule.FIXED, min_qty=D(50), max_qty=D(10)))
    eoq = buy("B", lot_sizing=LotSizing(LotSizingRule.EOQ), phantom=True)
    found = issues(MasterDataBatch(items=(fixed, eoq)))
    assert found == [
        ValidationIssue(
            "items/A", "items/A/lot_sizing/quantity", "the fixed rule needs a quantity", "required"
        ),
        ValidationIssue(
            "items/A", "items/A/lot_sizing/max_qty", "max_qty 10 is below min_qty 50", "invalid_range"
        ),
        ValidationIssue(
            "items/B",
            "items/B/standard_cost",
            "the eoq rule needs a standard_cost greater than 0",
            "required",
        ),
        ValidationIssue("items/B", "items/B/phantom", "a buy item cannot be a phantom", "invalid_value"),
    ]


def test_reports_a_work_center_without_machines_and_one_with_a_machine_twice() -> None:
    empty = WorkCenter("PAINT", "Paint", "plant")
    twice = WorkCenter("PRESS", "Press", "plant", (Machine("P1"), Machine("P1")))
    assert issues(MasterDataBatch(work_centers=(empty, twice))) == [
        ValidationIssue(
            "work_centers/PAINT",
            "work_centers/PAINT/machines",
            "a work center needs at least one machine",
            "empty",
        ),
        ValidationIssue(
            "work_centers/PRESS",
            "work_centers/PRESS/machines/1/code",
            "machine 'P1' is already listed at 0",
            "duplicate",
        ),
    ]


def test_escapes_a_slash_in_a_key_of_the_field_path() -> None:
    found = issues(MasterDataBatch(items=(make("A/B", lead=-1),)))
    assert [(i.record, i.field) for i in found] == [("items/A~1B", "items/A~1B/lead_time_days")]


def test_reports_every_problem_of_a_batch_not_only_the_first() -> None:
    batch = MasterDataBatch(
        items=(make("GEAR", lead=-1),),
        boms=(bom("GEAR", line("GEAR", "NOPE", "-1")),),
        routings=(routing("GEAR"),),
    )
    assert [i.code for i in issues(batch)] == ["negative", "unknown_reference", "not_positive", "empty"]
