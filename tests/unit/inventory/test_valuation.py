from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.inventory.domain.model import MovementType, ValuationError
from services.inventory.domain.valuation import (
    AverageCost,
    CostMethod,
    FifoCost,
    ItemValue,
    StandardCost,
    Valuation,
    cost_of_goods_issued,
    value_stock,
)

from .builders import D, adjustment, at, issue, receipt, scrap, transfer

# BOLT: three receipts at different costs, two partial issues, a transfer (no value).
BOLT_LEDGER = [
    receipt("BOLT", 100, "1.20", at(1, 1)),  # 120.00
    receipt("BOLT", 50, "1.35", at(1, 5)),  # 67.50
    issue("BOLT", 120, at(1, 10)),
    receipt("BOLT", 80, "1.1125", at(1, 15)),  # 89.00
    transfer("BOLT", 50, at(1, 16), "B-01", "B-02"),
    issue("BOLT", 40, at(1, 20)),
]


def post_all(method: CostMethod, ledger, standard_costs=None):
    valuation = Valuation(method, standard_costs)
    return valuation, [valuation.post(m) for m in ledger]


def test_fifo_issues_consume_the_oldest_layers_first():
    valuation, postings = post_all(CostMethod.FIFO, BOLT_LEDGER)
    # issue 120 = 100 x 1.20 + 20 x 1.35 = 120.00 + 27.00
    assert postings[2].cogs == D("147.00")
    # issue 40 = 30 x 1.35 (40.50) + 10 of the 80 @ 1.1125: 89.00 - round(70 x 1.1125 = 77.875) = 11.12
    assert postings[5].cogs == D("51.62")
    assert postings[4].value == D(0)
    fifo = valuation.cost_of("BOLT")
    assert isinstance(fifo, FifoCost)
    assert [(layer.qty, layer.unit_cost, layer.value) for layer in fifo.layers] == [
        (D(70), D("1.1125"), D("77.88"))
    ]
    assert valuation.item_value("BOLT") == ItemValue("BOLT", D(70), D("1.112571"), D("77.88"))


def test_fifo_value_as_of_a_date_replays_the_ledger_up_to_that_day():
    report = value_stock(BOLT_LEDGER, CostMethod.FIFO, as_of=date(2026, 1, 12))
    assert report.items == [ItemValue("BOLT", D(30), D("1.350000"), D("40.50"))]
    assert report.total == D("40.50")
    assert value_stock(BOLT_LEDGER, CostMethod.FIFO).total == D("77.88")
    assert value_stock(BOLT_LEDGER, CostMethod.FIFO, as_of=date(2025, 12, 31)).items == []


def test_weighted_average_is_recomputed_at_each_receipt():
    valuation, postings = post_all(CostMethod.AVERAGE, BOLT_LEDGER)
    # (100 x 1.20 + 50 x 1.35) / 150 = 1.25 ; issue 120 x 1.25 = 150.00
    assert postings[2].cogs == D("150.00")
    # (30 x 1.25 + 80 x 1.1125) / 110 = 126.50 / 110 = 1.15 ; issue 40 x 1.15 = 46.00
    assert postings[5].cogs == D("46.00")
    assert valuation.item_value("BOLT") == ItemValue("BOLT", D(70), D("1.150000"), D("80.50"))
    as_of = value_stock(BOLT_LEDGER, CostMethod.AVERAGE, as_of=date(2026, 1, 7))
    assert as_of.items == [ItemValue("BOLT", D(150), D("1.250000"), D("187.50"))]


def test_weighted_average_keeps_six_places_and_books_issues_to_the_cent():
    ledger = [
        receipt("NUT", 2, "1.00", at(1, 1)),
        receipt("NUT", 1, "1.50", at(1, 2)),  # 3.50 / 3 = 1.1666666... -> 1.166667
        issue("NUT", 1, at(1, 3)),  # 2 left x 1.166667 = 2.333334 -> 2.33 ; cogs 3.50 - 2.33
    ]
    valuation, postings = post_all(CostMethod.AVERAGE, ledger)
    assert postings[2].cogs == D("1.17")
    assert valuation.item_value("NUT") == ItemValue("NUT", D(2), D("1.166667"), D("2.33"))
    report = value_stock(ledger + BOLT_LEDGER, CostMethod.AVERAGE)
    assert [item.sku for item in report.items] == ["BOLT", "NUT"]
    assert report.total == D("82.83")


def test_standard_cost_books_the_purchase_price_variance_at_receipt():
    valuation, postings = post_all(CostMethod.STANDARD, BOLT_LEDGER, {"BOLT": D("1.25")})
    assert [p.ppv for p in postings if p.movement_type is MovementType.RECEIPT] == [
        D("-5.00"),  # (1.20 - 1.25) x 100
        D("5.00"),  # (1.35 - 1.25) x 50
        D("-11.00"),  # (1.1125 - 1.25) x 80
    ]
    assert [p.value for p in postings if p.movement_type is MovementType.RECEIPT] == [
        D("125.00"),
        D("62.50"),
        D("100.00"),
    ]
    assert (postings[2].cogs, postings[5].cogs) == (D("150.00"), D("50.00"))
    assert valuation.item_value("BOLT") == ItemValue("BOLT", D(70), D("1.250000"), D("87.50"))


def test_standard_cost_needs_a_standard_for_every_item_valued():
    with pytest.raises(ValuationError):
        value_stock(BOLT_LEDGER, CostMethod.STANDARD, standard_costs={"NUT": D(1)})


def test_a_standard_cost_change_revalues_the_stock_held():
    item = StandardCost(D("1.25"), qty=D(70))
    assert item.revalue(D("1.30")) == D("3.50")
    assert item.value == D("91.00")


def test_fifo_negative_stock_goes_out_at_the_last_cost_and_the_next_receipt_books_the_difference():
    valuation, postings = post_all(
        CostMethod.FIFO,
        [
            receipt("GLUE", 10, "2.00", at(1, 1)),
            issue("GLUE", 15, at(1, 2)),
            receipt("GLUE", 20, "2.50", at(1, 3)),
        ],
    )
    # issue 15 = 10 x 2.00 + 5 x 2.00 (provisional): stock -5, worth -10.00
    assert postings[1].cogs == D("30.00")
    fifo = valuation.cost_of("GLUE")
    # receipt 20 x 2.50 = 50.00 covers the 5 short (12.50 vs 10.00 issued): difference 2.50
    assert postings[2].price_difference == D("2.50")
    assert postings[2].value == D("47.50")
    assert isinstance(fifo, FifoCost)
    assert fifo.shortfall == []
    assert [(layer.qty, layer.value) for layer in fifo.layers] == [(D(15), D("37.50"))]


def test_average_negative_stock_is_covered_at_the_receipt_cost_with_the_gap_booked():
    valuation, _ = post_all(
        CostMethod.AVERAGE,
        [receipt("GLUE", 10, "2.00", at(1, 1)), issue("GLUE", 15, at(1, 2))],
    )
    assert valuation.item_value("GLUE") == ItemValue("GLUE", D(-5), D("2.000000"), D("-10.00"))
    partial = valuation.post(receipt("GLUE", 2, "2.50", at(1, 3)))  # covers 2 of the 5 short
    assert (partial.price_difference, partial.value) == (D("1.00"), D("4.00"))
    assert valuation.item_value("GLUE") == ItemValue("GLUE", D(-3), D("2.000000"), D("-6.00"))
    rest = valuation.post(receipt("GLUE", 18, "2.50", at(1, 4)))  # covers 3, 15 left at 2.50
    assert (rest.price_difference, rest.value) == (D("1.50"), D("43.50"))
    assert valuation.item_value("GLUE") == ItemValue("GLUE", D(15), D("2.500000"), D("37.50"))


def test_standard_negative_stock_is_valued_at_standard():
    valuation, postings = post_all(
        CostMethod.STANDARD,
        [
            receipt("GLUE", 10, "2.00", at(1, 1)),
            issue("GLUE", 15, at(1, 2)),
            receipt("GLUE", 20, "2.50", at(1, 3)),
        ],
        {"GLUE": D(2)},
    )
    assert valuation.item_value("GLUE") == ItemValue("GLUE", D(15), D("2.000000"), D("30.00"))
    assert (postings[2].value, postings[2].ppv) == (D("40.00"), D("10.00"))


def test_a_found_quantity_comes_in_at_the_cost_the_item_is_carried_at_and_scrap_goes_out_as_cost():
    ledger = [
        receipt("BOLT", 10, "2.00", at(1, 1)),
        adjustment("BOLT", 2, at(1, 2)),
        scrap("BOLT", 3, at(1, 3)),
    ]
    _, fifo = post_all(CostMethod.FIFO, ledger)
    assert (fifo[1].value, fifo[2].cogs) == (D("4.00"), D("6.00"))
    _, average = post_all(CostMethod.AVERAGE, ledger)
    assert (average[1].value, average[2].cogs) == (D("4.00"), D("6.00"))
    _, standard = post_all(CostMethod.STANDARD, ledger, {"BOLT": D("2.10")})
    assert (standard[1].value, standard[1].ppv, standard[2].cogs) == (D("4.20"), D(0), D("6.30"))


def test_cost_of_goods_issued_over_a_period_uses_costs_from_before_it():
    cogs = cost_of_goods_issued(BOLT_LEDGER, CostMethod.FIFO, start=date(2026, 1, 11), end=date(2026, 1, 31))
    assert cogs == {"BOLT": D("51.62")}


CENT = Decimal("0.01")
quantities = st.decimals(
    min_value=D("0.001"), max_value=D(500), places=3, allow_nan=False, allow_infinity=False
)
costs = st.decimals(min_value=D(0), max_value=D(80), places=6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), quantities, costs), min_size=1, max_size=25))
def test_fifo_remaining_layers_are_worth_receipts_minus_cost_of_goods_issued(steps):
    fifo = FifoCost()
    received = cogs = D(0)
    for is_receipt, qty, cost in steps:
        if is_receipt:
            fifo.receive(qty, cost, at(1, 1), purchase=True)
            received += (qty * cost).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            cogs += fifo.issue(min(qty, fifo.qty))
        assert all(layer.qty > 0 and layer.value >= 0 for layer in fifo.layers)
    assert fifo.shortfall == []
    assert sum((layer.value for layer in fifo.layers), D(0)) == received - cogs


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), quantities, costs), min_size=1, max_size=25))
def test_every_method_keeps_value_equal_to_what_came_in_minus_what_went_out_even_when_negative(steps):
    for item in (FifoCost(), AverageCost(), StandardCost(D("3.141593"))):
        came_in = went_out = D(0)
        for is_receipt, qty, cost in steps:
            if is_receipt:
                result = item.receive(qty, cost, at(1, 1), purchase=True)
                came_in += result.value
            else:
                went_out += item.issue(qty)
        assert item.value == came_in - went_out
        if isinstance(item, FifoCost):
            assert all(layer.qty > 0 for layer in item.layers + item.shortfall)
            assert not (item.layers and item.shortfall)
