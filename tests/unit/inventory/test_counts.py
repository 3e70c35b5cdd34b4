from __future__ import annotations

from datetime import date

import pytest

from services.inventory.domain.counts import (
    CycleCountItem,
    DueCount,
    add_months,
    cycle_counts_due,
    open_count,
    post_count,
    stock_accuracy,
)
from services.inventory.domain.ledger import StockPosition
from services.inventory.domain.model import InvalidField, InventoryError, MovementType, StockKey

from .builders import D, at, bins, receipt

BOLT_B01 = StockKey("BOLT", "B-01", None)
BOLT_B02 = StockKey("BOLT", "B-02", None)
NUT_N1 = StockKey("NUT", "B-01", "N1")
NUT_N2 = StockKey("NUT", "B-01", "N2")
CAP_B02 = StockKey("CAP", "B-02", None)


def stock() -> StockPosition:
    position = StockPosition(bins("B-01", "B-02"))
    position.apply(receipt("BOLT", 100, "1", at(1, 1)))
    position.apply(receipt("BOLT", 40, "1", at(1, 1), location="B-02"))
    position.apply(receipt("NUT", 25, "1", at(1, 1), lot="N1"))
    position.apply(receipt("NUT", 10, "1", at(1, 1), lot="N2"))
    return position


def counted_sheet(position: StockPosition):
    sheet = open_count(position, count_id="CNT-1", at=at(2, 1, hour=6))
    sheet.record(BOLT_B01, D(97))
    sheet.record(BOLT_B02, D(40))
    sheet.record(NUT_N1, D(25))
    sheet.record(CAP_B02, D(6))  # found where nothing was expected
    return sheet


def test_a_count_sheet_freezes_the_expected_quantities_in_scope():
    sheet = open_count(stock(), count_id="CNT-1", at=at(2, 1), skus=["NUT"])
    assert {key: line.expected for key, line in sheet.lines.items()} == {NUT_N1: D(25), NUT_N2: D(10)}
    by_bin = open_count(stock(), count_id="CNT-2", at=at(2, 1), location="B-02")
    assert list(by_bin.lines) == [BOLT_B02]


def test_posting_a_count_books_the_differences_as_adjustments_and_leaves_uncounted_lines():
    position = stock()
    sheet = counted_sheet(position)
    adjustments = post_count(sheet, at=at(2, 1, hour=18))
    assert [(m.type, m.key, m.qty, m.reason, m.reference) for m in adjustments] == [
        (MovementType.ADJUSTMENT, BOLT_B01, D(-3), "physical count", "CNT-1"),
        (MovementType.ADJUSTMENT, CAP_B02, D(6), "physical count", "CNT-1"),
    ]
    for movement in adjustments:
        position.apply(movement)
    assert (position.on_hand(BOLT_B01), position.on_hand(CAP_B02), position.on_hand(NUT_N2)) == (
        D(97),
        D(6),
        D(10),
    )


def test_a_count_is_posted_once_and_counts_cannot_be_negative():
    sheet = counted_sheet(stock())
    with pytest.raises(InvalidField):
        sheet.record(NUT_N2, D(-1))
    post_count(sheet, at=at(2, 2))
    with pytest.raises(InventoryError):
        post_count(sheet, at=at(2, 2))
    with pytest.raises(InventoryError):
        sheet.record(NUT_N2, D(10))


def test_stock_accuracy_is_the_share_of_counted_lines_within_tolerance():
    lines = list(counted_sheet(stock()).lines.values())
    exact = stock_accuracy(lines)
    assert (exact.lines, exact.within, exact.share) == (4, 2, D("0.5000"))
    # 5 % of 100 allows the BOLT B-01 gap of 3; the 6 CAP found against 0 expected stays out
    assert stock_accuracy(lines, tolerance_ratio=D("0.05")).share == D("0.7500")
    assert stock_accuracy(lines, tolerance_qty=D(6)).share == D("1.0000")
    assert stock_accuracy([]).share is None


def test_months_are_added_on_the_calendar_with_the_day_clamped_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 6, 1), 12) == date(2026, 6, 1)


def test_cycle_counts_fall_due_by_abc_class_never_counted_first_then_longest_overdue():
    items = [
        CycleCountItem("A1", "A", date(2026, 5, 10)),  # due 06-10
        CycleCountItem("A2", "A", date(2026, 5, 20)),  # due 06-20: not yet
        CycleCountItem("B1", "B", date(2026, 3, 15)),  # due 06-15: today
        CycleCountItem("B2", "B", date(2026, 3, 31)),  # due 06-30: not yet
        CycleCountItem("C1", "C", date(2025, 6, 1)),  # due 06-01
        CycleCountItem("C2", "C", None),
    ]
    assert cycle_counts_due(items, date(2026, 6, 15)) == [
        DueCount("C2", "C", None, None),
        DueCount("C1", "C", date(2026, 6, 1), 14),
        DueCount("A1", "A", date(2026, 6, 10), 5),
        DueCount("B1", "B", date(2026, 6, 15), 0),
    ]
    every_two_months = cycle_counts_due(items[:1], date(2026, 6, 15), {"A": 2, "B": 3, "C": 12})
    assert every_two_months == []
