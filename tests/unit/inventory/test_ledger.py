from __future__ import annotations

from datetime import date, datetime

import pytest

from services.inventory.domain.ledger import BalanceChange, StockPosition, on_hand_as_of
from services.inventory.domain.model import (
    InsufficientStock,
    InvalidLocation,
    InvalidMovement,
    Location,
    LocationKind,
    Lot,
    Movement,
    MovementType,
    StockKey,
)

from .builders import D, adjustment, at, bins, issue, receipt, scrap, transfer

BOLT_B01 = StockKey("BOLT", "B-01", None)
BOLT_B02 = StockKey("BOLT", "B-02", None)


def position_with_bolts(qty: int = 100) -> StockPosition:
    position = StockPosition([*bins("B-01", "B-02"), Location("NEG", "line side", allow_negative=True)])
    position.apply(receipt("BOLT", qty, "1.20", at(1, 1)))
    return position


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Movement(MovementType.RECEIPT, "BOLT", D(5), "B-01", at(1, 1)), "unit_cost"),
        (
            lambda: Movement(MovementType.RECEIPT, "BOLT", D(5), "B-01", at(1, 1), unit_cost=D("-0.01")),
            "unit_cost",
        ),
        (lambda: Movement(MovementType.ISSUE, "BOLT", D(0), "B-01", at(1, 1)), "qty"),
        (lambda: Movement(MovementType.ISSUE, "BOLT", D(-2), "B-01", at(1, 1)), "qty"),
        (lambda: Movement(MovementType.ADJUSTMENT, "BOLT", D(-2), "B-01", at(1, 1)), "reason"),
        (lambda: Movement(MovementType.ADJUSTMENT, "BOLT", D(0), "B-01", at(1, 1), reason="x"), "qty"),
        (lambda: Movement(MovementType.SCRAP, "BOLT", D(2), "B-01", at(1, 1), reason="  "), "reason"),
        (lambda: Movement(MovementType.TRANSFER, "BOLT", D(2), "B-01", at(1, 1)), "to_location"),
        (
            lambda: Movement(MovementType.TRANSFER, "BOLT", D(2), "B-01", at(1, 1), to_location="B-01"),
            "to_location",
        ),
        (
            lambda: Movement(MovementType.ISSUE, "BOLT", D(2), "B-01", at(1, 1), to_location="B-02"),
            "to_location",
        ),
        (lambda: Movement(MovementType.ISSUE, "BOLT", D(2), "B-01", datetime(2026, 1, 1)), "at"),
    ],
)
def test_an_ill_formed_movement_is_refused_naming_the_field(build, field):
    with pytest.raises(InvalidMovement) as error:
        build()
    assert error.value.field == field


def test_a_receipt_at_zero_cost_is_accepted():
    assert receipt("BOLT", 5, "0", at(1, 1)).unit_cost == D(0)


def test_receipt_then_issue_leaves_the_difference_on_hand():
    position = position_with_bolts(100)
    changes = position.apply(issue("BOLT", "30.5", at(1, 2)))
    assert changes == (BalanceChange(BOLT_B01, D("-30.5")),)
    balance = position.balance(BOLT_B01)
    assert (balance.on_hand, balance.reserved, balance.available) == (D("69.5"), D(0), D("69.5"))


def test_an_issue_beyond_the_stock_is_refused_with_the_missing_quantity_and_changes_nothing():
    position = position_with_bolts(10)
    with pytest.raises(InsufficientStock) as error:
        position.apply(issue("BOLT", 15, at(1, 2)))
    assert (error.value.requested, error.value.available, error.value.missing) == (D(15), D(10), D(5))
    assert position.on_hand(BOLT_B01) == D(10)


def test_a_location_that_allows_negative_stock_can_go_below_zero():
    position = position_with_bolts(10)
    position.apply(transfer("BOLT", 10, at(1, 2), "B-01", "NEG"))
    position.apply(issue("BOLT", 15, at(1, 3), location="NEG"))
    assert position.on_hand(StockKey("BOLT", "NEG", None)) == D(-5)


def test_a_transfer_is_an_issue_at_the_source_plus_a_receipt_at_the_destination():
    position = position_with_bolts(100)
    changes = position.apply(transfer("BOLT", 40, at(1, 2), "B-01", "B-02"))
    assert changes == (BalanceChange(BOLT_B01, D(-40)), BalanceChange(BOLT_B02, D(40)))
    assert (position.on_hand(BOLT_B01), position.on_hand(BOLT_B02)) == (D(60), D(40))


def test_a_transfer_keeps_the_lot():
    position = StockPosition(bins("B-01", "B-02"))
    position.apply(receipt("RESIN", 20, "3", at(1, 1), lot="L7"))
    position.apply(transfer("RESIN", 5, at(1, 2), "B-01", "B-02", lot="L7"))
    assert position.on_hand(StockKey("RESIN", "B-02", "L7")) == D(5)
    assert position.on_hand(StockKey("RESIN", "B-01", "L7")) == D(15)


def test_an_issue_or_transfer_cannot_take_reserved_stock():
    position = position_with_bolts(100)
    position.reserve(BOLT_B01, D(70))
    with pytest.raises(InsufficientStock) as error:
        position.apply(transfer("BOLT", 40, at(1, 2), "B-01", "B-02"))
    assert error.value.missing == D(10)
    with pytest.raises(InsufficientStock):
        position.apply(issue("BOLT", 31, at(1, 2)))
    position.apply(issue("BOLT", 30, at(1, 2)))
    assert position.balance(BOLT_B01).available == D(0)


def test_a_scrap_may_take_reserved_stock_but_never_more_than_on_hand():
    position = position_with_bolts(10)
    position.reserve(BOLT_B01, D(8))
    position.apply(scrap("BOLT", 5, at(1, 2)))
    balance = position.balance(BOLT_B01)
    assert (balance.on_hand, balance.reserved, balance.available) == (D(5), D(8), D(-3))
    with pytest.raises(InsufficientStock) as error:
        position.apply(scrap("BOLT", 6, at(1, 3)))
    assert error.value.missing == D(1)


def test_a_signed_adjustment_moves_the_stock_either_way():
    position = position_with_bolts(10)
    position.apply(adjustment("BOLT", -3, at(1, 2), reason="count"))
    position.apply(adjustment("BOLT", "0.25", at(1, 3), reason="found"))
    assert position.on_hand(BOLT_B01) == D("7.25")
    with pytest.raises(InsufficientStock):
        position.apply(adjustment("BOLT", -8, at(1, 4), reason="count"))


def test_a_movement_to_an_unknown_location_is_refused():
    position = position_with_bolts(10)
    with pytest.raises(InvalidMovement) as error:
        position.apply(transfer("BOLT", 1, at(1, 2), "B-01", "ZZ"))
    assert error.value.field == "to_location"
    with pytest.raises(InvalidMovement) as error:
        position.apply(receipt("BOLT", 1, "1", at(1, 2), location="ZZ"))
    assert error.value.field == "location"


def test_stock_in_a_non_nettable_location_cannot_be_reserved():
    position = StockPosition([Location("QC", "quality", nettable=False)])
    position.apply(receipt("BOLT", 10, "1", at(1, 1), location="QC"))
    with pytest.raises(InvalidMovement):
        position.reserve(StockKey("BOLT", "QC", None), D(1))


def test_the_balance_as_of_a_past_date_replays_the_ledger_up_to_that_day():
    ledger = [
        receipt("BOLT", 100, "1.20", at(1, 1)),
        issue("BOLT", 20, at(1, 20)),  # booked out of time order: replayed by timestamp
        issue("BOLT", 30, at(1, 10, hour=14)),
        transfer("BOLT", 10, at(1, 25), "B-01", "B-02"),
    ]
    assert on_hand_as_of(ledger, date(2026, 1, 9)) == {BOLT_B01: D(100)}
    assert on_hand_as_of(ledger, date(2026, 1, 10)) == {BOLT_B01: D(70)}
    assert on_hand_as_of(ledger, at(1, 10, hour=8)) == {BOLT_B01: D(100)}
    assert on_hand_as_of(ledger) == {BOLT_B01: D(40), BOLT_B02: D(10)}
    assert on_hand_as_of(ledger, location="B-02") == {BOLT_B02: D(10)}
    rebuilt = StockPosition.from_ledger(bins("B-01", "B-02"), ledger, date(2026, 1, 20))
    assert [(b.key, b.on_hand) for b in rebuilt.balances()] == [(BOLT_B01, D(50))]


def test_a_lot_is_usable_on_its_expiry_date_and_expired_the_day_after():
    lot = Lot("RESIN", "L1", at(1, 1), expiry=date(2026, 3, 10))
    assert not lot.is_expired(date(2026, 3, 10))
    assert lot.is_expired(date(2026, 3, 11))


def test_quantities_must_be_decimals_and_a_location_cannot_be_its_own_parent():
    with pytest.raises(InvalidMovement) as error:
        Movement(MovementType.ISSUE, "BOLT", 3, "B-01", at(1, 1))  # type: ignore[arg-type]
    assert error.value.field == "qty"
    with pytest.raises(InvalidLocation) as location_error:
        Location("B-01", "bin", LocationKind.BIN, parent="B-01")
    assert location_error.value.field == "parent"


def test_a_timestamp_as_of_needs_an_offset():
    with pytest.raises(ValueError, match="offset"):
        on_hand_as_of([receipt("BOLT", 1, "1", at(1, 1))], datetime(2026, 1, 2))
