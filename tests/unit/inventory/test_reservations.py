from __future__ import annotations

from datetime import date

import pytest

from services.inventory.domain.ledger import StockPosition
from services.inventory.domain.model import (
    InsufficientStock,
    Location,
    Lot,
    MovementType,
    ReservationError,
    StockKey,
)
from services.inventory.domain.reservations import (
    AllocationPolicy,
    PickLine,
    consume,
    pick_list,
    release,
    reserve,
)

from .builders import D, at, bins, issue, receipt, scrap

ON = date(2026, 3, 15)
LOTS = [
    Lot("RESIN", "L1", at(1, 5), expiry=date(2026, 3, 10)),  # expired on ON
    Lot("RESIN", "L2", at(1, 10), expiry=date(2026, 6, 30)),
    Lot("RESIN", "L3", at(2, 1), expiry=date(2026, 4, 30)),
    Lot("RESIN", "L4", at(1, 2), expiry=date(2026, 5, 31)),  # in quality control
]
L2 = StockKey("RESIN", "B-02", "L2")
L3 = StockKey("RESIN", "B-01", "L3")


def resin_stock() -> StockPosition:
    position = StockPosition([*bins("B-01", "B-02"), Location("QC", "quality", nettable=False)])
    position.apply(receipt("RESIN", 50, "4", at(1, 5), lot="L1"))
    position.apply(receipt("RESIN", 40, "4", at(1, 10), location="B-02", lot="L2"))
    position.apply(receipt("RESIN", 30, "4", at(2, 1), lot="L3"))
    position.apply(receipt("RESIN", 100, "4", at(1, 2), location="QC", lot="L4"))
    position.apply(receipt("CAP", 25, "0.1", at(1, 2)))
    return position


def lines(reservation):
    return [(line.key, line.qty) for line in reservation.lines]


def test_fifo_takes_the_oldest_receipts_first_skipping_expired_and_non_nettable_lots():
    position = resin_stock()
    res = reserve(
        position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(60), lots=LOTS, on=ON,
        policy=AllocationPolicy.FIFO,
    )  # fmt: skip
    assert lines(res) == [(L2, D(40)), (L3, D(20))]
    assert (position.reserved(L2), position.available(L2)) == (D(40), D(0))
    assert position.available(L3) == D(10)


def test_fefo_takes_the_soonest_expiring_usable_lots_first():
    position = resin_stock()
    res = reserve(position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(60), lots=LOTS, on=ON)
    assert lines(res) == [(L3, D(30)), (L2, D(30))]
    assert res.qty == D(60)


def test_a_reservation_never_exceeds_what_is_available_and_a_shortage_reserves_nothing():
    position = resin_stock()
    with pytest.raises(InsufficientStock) as error:
        reserve(position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(80), lots=LOTS, on=ON)
    assert (error.value.available, error.value.missing) == (D(70), D(10))
    assert position.reserved(L2) == D(0)
    assert position.reserved(L3) == D(0)


def test_a_partial_reservation_takes_all_that_is_available():
    position = resin_stock()
    res = reserve(
        position,
        reservation_id="R1",
        order="MO-1",
        sku="RESIN",
        qty=D(80),
        lots=LOTS,
        on=ON,
        allow_partial=True,
    )
    assert res.qty == D(70)
    with pytest.raises(InsufficientStock):
        reserve(position, reservation_id="R2", order="MO-2", sku="RESIN", qty=D(1), lots=LOTS, on=ON)


def test_release_gives_back_the_last_chosen_stock_first():
    position = resin_stock()
    res = reserve(position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(60), lots=LOTS, on=ON)
    released = release(position, res, D(40))
    assert [(line.key, line.qty) for line in released] == [(L2, D(30)), (L3, D(10))]
    assert lines(res) == [(L3, D(20))]
    assert (position.reserved(L3), position.reserved(L2)) == (D(20), D(0))
    release(position, res)
    assert res.qty == D(0)
    assert position.reserved(L3) == D(0)


def test_consuming_a_reservation_issues_the_first_chosen_stock():
    position = resin_stock()
    res = reserve(position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(60), lots=LOTS, on=ON)
    issues = consume(position, res, at=at(3, 16), qty=D(45))
    assert [(m.type, m.location, m.lot, m.qty, m.reference) for m in issues] == [
        (MovementType.ISSUE, "B-01", "L3", D(30), "MO-1"),
        (MovementType.ISSUE, "B-02", "L2", D(15), "MO-1"),
    ]
    assert (position.on_hand(L3), position.on_hand(L2), position.reserved(L2)) == (D(0), D(25), D(15))
    assert lines(res) == [(L2, D(15))]
    with pytest.raises(ReservationError):
        consume(position, res, at=at(3, 16), qty=D(16))


def test_reserved_stock_cannot_be_taken_by_an_unreserved_issue():
    position = resin_stock()
    reserve(position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(60), lots=LOTS, on=ON)
    with pytest.raises(InsufficientStock) as error:
        position.apply(issue("RESIN", 20, at(3, 16), location="B-02", lot="L2"))
    assert error.value.missing == D(10)


def test_the_pick_list_of_an_order_gives_item_lot_bin_and_quantity_in_bin_order():
    position = resin_stock()
    resin = reserve(position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(60), lots=LOTS, on=ON)
    caps = reserve(position, reservation_id="R2", order="MO-1", sku="CAP", qty=D(25), lots=[], on=ON)
    other = reserve(position, reservation_id="R3", order="MO-2", sku="RESIN", qty=D(5), lots=LOTS, on=ON)
    assert pick_list([resin, other, caps], "MO-1") == [
        PickLine(sku="CAP", lot=None, bin="B-01", qty=D(25)),
        PickLine(sku="RESIN", lot="L3", bin="B-01", qty=D(30)),
        PickLine(sku="RESIN", lot="L2", bin="B-02", qty=D(30)),
    ]


def test_a_reservation_left_short_by_a_scrap_can_still_take_what_is_on_hand():
    position = resin_stock()
    res = reserve(
        position, reservation_id="R1", order="MO-1", sku="RESIN", qty=D(30), lots=LOTS, on=ON,
    )  # fmt: skip
    assert lines(res) == [(L3, D(30))]
    position.apply(scrap("RESIN", 10, at(3, 16), lot="L3"))
    assert position.available(L3) == D(-10)
    with pytest.raises(InsufficientStock) as error:
        consume(position, res, at=at(3, 17))
    assert error.value.missing == D(10)
    assert position.reserved(L3) == D(30)  # nothing consumed
    consume(position, res, at=at(3, 17), qty=D(20))
    assert (position.on_hand(L3), position.reserved(L3), res.qty) == (D(0), D(10), D(10))
