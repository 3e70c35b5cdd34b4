from __future__ import annotations

from datetime import date

import pytest

from services.inventory.domain.model import Lot, StockKey
from services.inventory.domain.reorder import (
    StockStatus,
    average_stock_value,
    days_of_coverage,
    reorder_parameters,
    service_level_z,
    stock_ageing,
    turnover,
)

from .builders import D, at, issue, receipt, transfer

DEMAND = [D(10), D(12), D(8), D(14), D(6)]  # mean 10, squared gaps 0+4+4+16+16 = 40, sigma = sqrt(40/4)


def test_the_z_of_a_service_level_comes_from_the_inverse_normal():
    assert service_level_z(D("0.95")) == D("1.6449")
    assert service_level_z(D("0.99")) == D("2.3263")
    assert service_level_z(D("0.50")) == D(0)
    with pytest.raises(ValueError, match="service level"):
        service_level_z(D(1))


def test_safety_stock_is_z_sigma_root_lead_time_rounded_up_to_a_whole_unit():
    params = reorder_parameters(DEMAND, D(4), D("0.95"))
    # 1.6449 x 3.16227766 x 2 = 10.4033 -> 11 ; ROP = 10 x 4 + 11
    assert (params.mean_demand, params.sigma, params.z) == (D(10), D("3.162278"), D("1.6449"))
    assert (params.safety_stock, params.reorder_point) == (D(11), D(51))


def test_safety_stock_can_be_rounded_to_a_finer_quantum():
    params = reorder_parameters(DEMAND, D(4), D("0.95"), quantum=D("0.01"))
    assert (params.safety_stock, params.reorder_point) == (D("10.41"), D("50.41"))


def test_a_service_level_of_one_half_needs_no_safety_stock():
    params = reorder_parameters(DEMAND, D(4), D("0.5"))
    assert (params.safety_stock, params.reorder_point) == (D(0), D(40))
    with pytest.raises(ValueError, match="two periods"):
        reorder_parameters([D(3)], D(4), D("0.95"))


def test_turnover_is_cost_of_goods_issued_over_average_stock_value():
    average = average_stock_value([D(30000), D(40000), D(50000)])
    assert average == D("40000.00")
    assert turnover(D(120000), average) == D("3.00")
    assert turnover(D(1000), D(0)) is None


def test_days_of_coverage_divide_stock_by_the_daily_demand():
    assert days_of_coverage(D(300), D(900), 90) == D("30.0")
    assert days_of_coverage(D(250), D(1000), 365) == D("91.3")  # 91.25
    assert days_of_coverage(D(250), D(0), 365) is None


def test_dormant_and_obsolete_stock_by_days_without_movement_or_expiry():
    ledger = [
        receipt("A", 5, "1", at(6, 1)),
        receipt("B", 5, "1", at(3, 1)),
        receipt("C", 5, "1", at(5, 1, year=2025)),
        receipt("D", 5, "1", at(1, 1), lot="D1"),
        transfer("D", 1, at(6, 29), "B-01", "B-02", lot="D1"),
        issue("A", 1, at(7, 2)),  # after the day asked: ignored
    ]
    on_hand = {
        StockKey("A", "B-01", None): D(4),
        StockKey("B", "B-01", None): D(5),
        StockKey("C", "B-01", None): D(5),
        StockKey("D", "B-01", "D1"): D(4),
        StockKey("E", "B-01", None): D(2),
        StockKey("F", "B-01", None): D(0),
    }
    lots = [Lot("D", "D1", at(1, 1), expiry=date(2026, 6, 15))]
    lines = stock_ageing(on_hand, ledger, lots, on=date(2026, 6, 30))
    assert [(line.key.sku, line.idle_days, line.status) for line in lines] == [
        ("A", 29, StockStatus.ACTIVE),
        ("B", 121, StockStatus.DORMANT),
        ("C", 425, StockStatus.OBSOLETE),
        ("D", 1, StockStatus.OBSOLETE),
        ("E", None, StockStatus.OBSOLETE),
    ]
    assert lines[3].reason == "lot expired on 2026-06-15"
