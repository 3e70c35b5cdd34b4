from datetime import date

from services.masterdata.domain.model import BomLine, UnitConversion, UnitConverter
from tests.unit.masterdata.factories import D, line

CONVERTER = UnitConverter(
    [
        UnitConversion("KG", "G", D(1000)),
        UnitConversion("G", "MG", D(1000)),
        UnitConversion("BOX", "EA", D(12)),
        UnitConversion("BOX", "EA", D(50), sku="BOLT"),
        UnitConversion("L", "ML", D(0)),  # ignored: not positive
    ]
)


def test_converts_through_a_chain_and_backwards() -> None:
    assert CONVERTER.factor("KG", "MG") == D(1000000)
    assert CONVERTER.factor("G", "KG") == D("0.001")
    assert CONVERTER.factor("EA", "EA") == D(1)


def test_an_item_specific_conversion_wins_over_the_general_one() -> None:
    assert CONVERTER.factor("BOX", "EA") == D(12)
    assert CONVERTER.factor("BOX", "EA", "BOLT") == D(50)


def test_no_factor_without_a_chain_of_positive_conversions() -> None:
    assert CONVERTER.factor("KG", "EA") is None
    assert CONVERTER.factor("L", "ML") is None


def test_a_bom_line_is_valid_from_its_start_to_just_before_its_end() -> None:
    bounded: BomLine = line("A", "B", since=date(2026, 1, 1), until=date(2026, 2, 1))
    assert [bounded.is_valid_at(date(2026, 1, d)) for d in (1, 31)] == [True, True]
    assert not bounded.is_valid_at(date(2026, 2, 1))
    assert not bounded.is_valid_at(date(2025, 12, 31))
    assert line("A", "B").is_valid_at(date(1990, 1, 1))
