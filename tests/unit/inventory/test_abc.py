from __future__ import annotations

from datetime import date

import pytest

from services.inventory.domain.abc import AbcLine, AbcThresholds, classify_abc, consumption_value

from .builders import D, at, issue, receipt, scrap

TABLE = {
    "P3": D(1200),
    "P1": D(5000),
    "P8": D(0),
    "P5": D(400),
    "P2": D(2500),
    "P4": D(600),
    "P7": D(100),
    "P6": D(200),
}  # total 10 000


def test_abc_ranks_by_consumption_value_with_the_figures_behind_each_class():
    assert classify_abc(TABLE) == [
        AbcLine("P1", D("5000.00"), D("0.5000"), D("0.5000"), 1, "A"),
        AbcLine("P2", D("2500.00"), D("0.2500"), D("0.7500"), 2, "A"),
        AbcLine("P3", D("1200.00"), D("0.1200"), D("0.8700"), 3, "B"),
        AbcLine("P4", D("600.00"), D("0.0600"), D("0.9300"), 4, "B"),
        AbcLine("P5", D("400.00"), D("0.0400"), D("0.9700"), 5, "C"),
        AbcLine("P6", D("200.00"), D("0.0200"), D("0.9900"), 6, "C"),
        AbcLine("P7", D("100.00"), D("0.0100"), D("1.0000"), 7, "C"),
        AbcLine("P8", D("0.00"), D("0.0000"), D("1.0000"), 8, "C"),
    ]


def test_an_item_ending_exactly_on_a_threshold_stays_in_the_higher_class():
    classes = [line.abc_class for line in classify_abc({"W": D(50), "X": D(30), "Y": D(15), "Z": D(5)})]
    assert classes == ["A", "A", "B", "C"]


def test_the_top_item_is_class_a_even_when_it_alone_passes_the_threshold():
    classes = [(line.sku, line.abc_class) for line in classify_abc({"X": D(90), "Y": D(6), "Z": D(4)})]
    assert classes == [("X", "A"), ("Y", "C"), ("Z", "C")]


def test_abc_thresholds_are_configurable():
    lines = classify_abc(TABLE, AbcThresholds(a=D("0.70"), b=D("0.20")))
    assert [line.abc_class for line in lines[:5]] == ["A", "B", "B", "C", "C"]
    with pytest.raises(ValueError, match="thresholds"):
        AbcThresholds(a=D("0.9"), b=D("0.2"))


def test_annual_consumption_value_counts_issues_of_the_year_at_unit_cost():
    ledger = [
        receipt("P1", 500, "2", at(1, 1, year=2025)),
        issue("P1", 120, at(3, 1, year=2025)),
        issue("P1", "30.5", at(12, 31, year=2025)),
        issue("P1", 99, at(1, 1, year=2026)),  # outside the year
        scrap("P1", 7, at(6, 1, year=2025)),  # scrap is not consumption
        issue("P2", 3, at(6, 1, year=2025)),
    ]
    values = consumption_value(
        ledger, {"P1": D("2.125"), "P2": D("0.333")}, start=date(2025, 1, 1), end=date(2025, 12, 31)
    )
    # P1: 150.5 x 2.125 = 319.8125 -> 319.81 ; P2: 3 x 0.333 = 0.999 -> 1.00
    assert values == {"P1": D("319.81"), "P2": D("1.00")}
