"""EDI intake: EDIFACT ORDERS D96A and X12 850 text to orders, and located errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.mrp.domain.edi import EdiError, EdiOrder, EdiSyntaxError, interchange_key, parse_edi

# --- samples ---------------------------------------------------------------------------------

UNA = "UNA:+.? '"
UNB = "UNB+UNOC:3+5412345000013:14+5498765000019:14+260110:0930+ICR0001"

MESSAGE_1 = [
    "UNH+M1+ORDERS:D:96A:UN:EAN008",
    "BGM+220+PO-1001+9",
    "DTM+137:20260110:102",
    "DTM+2:20260201:102",
    "NAD+BY+5412345000013::9++Smith?+Sons Ltd",
    "NAD+SU+5498765000019::9",
    "LIN+1++5400000000017:SRV",
    "PIA+5+ABC-100:SA+B-77:IN",
    "QTY+21:10:PCE",
    "PRI+AAA:12.50",
    "LIN+2++5400000000024:SRV",
    "PIA+1+XYZ-200:IN",
    "QTY+21:2.5:KGM",
    "DTM+2:202602150800:203",
    "UNS+S",
    "CNT+2:2",
]
MESSAGE_2 = [
    "UNH+M2+ORDERS:D:96A:UN",
    "BGM+220+PO-1002+9",
    "DTM+137:260111:101",
    "LIN+1++ABC-300:SA",
    "QTY+21:4",
    "UNS+S",
]
# Segment indices in the interchange built from both: UNB 1, UNH 2, BGM 3, DTM 4-5, NAD 6-7,
# LIN 8, PIA 9, QTY 10, PRI 11, LIN 12, PIA 13, QTY 14, DTM 15, UNS 16, CNT 17, UNT 18,
# UNH 19, BGM 20, DTM 21, LIN 22, QTY 23, UNS 24, UNT 25, UNZ 26.


def edifact(*messages: list[str], una: str | None = UNA, sep: str = "\n", term: str = "'") -> str:
    """An interchange with correct UNT / UNZ counts and references."""
    segments = [UNB]
    for body in messages:
        ref = body[0].split("+")[1]
        segments += [*body, f"UNT+{len(body) + 1}+{ref}"]
    segments.append(f"UNZ+{len(messages)}+ICR0001")
    text = sep.join(s + term for s in segments)
    return (una + sep if una else "") + text


def isa(control: str = "000000101", sub: str = ">") -> str:
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{'BUYERCO':15}*ZZ*{'JALON':15}*260110*0930*U*00401*{control}*0*P*{sub}"
    )


SET_1 = [
    "ST*850*0001",
    "BEG*00*SA*4500012345**20260110",
    "DTM*002*20260201",
    "N1*BY*Buyer Co*92*BUY01",
    "PO1*1*10*EA*12.5*PE*BP*B-100*VP*ABC-100",
    "PO1*2*3*EA**PE*BP*B-200",
    "DTM*002*20260215",
    "CTT*2",
]
SET_2 = [
    "ST*850*0002",
    "BEG*00*SA*4500012346**20260111",
    "N1*BY*Other Buyer",
    "PO1**5*CS*7*PE*VP*XYZ-9",
]
# Indices: ISA 1, GS 2, ST 3, BEG 4, DTM 5, N1 6, PO1 7, PO1 8, DTM 9, CTT 10, SE 11,
# ST 12, BEG 13, N1 14, PO1 15, SE 16, GE 17, IEA 18.


def x12(*sets: list[str], term: str = "~\n") -> str:
    segments = [isa(), "GS*PO*BUYERCO*JALON*20260110*0930*7*X*004010"]
    for body in sets:
        segments += [*body, f"SE*{len(body) + 1}*{body[0].split('*')[2]}"]
    segments += [f"GE*{len(sets)}*7", "IEA*1*000000101"]
    return "".join(s + term for s in segments)


def errors_of(text: str) -> list[EdiError]:
    with pytest.raises(EdiSyntaxError) as caught:
        parse_edi(text)
    return caught.value.errors


def only_error(text: str) -> EdiError:
    errors = errors_of(text)
    assert len(errors) == 1, [e.message for e in errors]
    return errors[0]


def located(error: EdiError) -> tuple[str | None, int | None, int | None]:
    return error.segment_tag, error.segment_index, error.element_position


# --- EDIFACT ---------------------------------------------------------------------------------


def test_reads_two_edifact_orders_messages_from_one_interchange():
    first, second = parse_edi(edifact(MESSAGE_1, MESSAGE_2))

    assert first.syntax == "EDIFACT"
    assert (first.number, first.customer, first.customer_name) == (
        "PO-1001",
        "5412345000013",
        "Smith+Sons Ltd",
    )
    assert (first.order_date, first.delivery_date) == (date(2026, 1, 10), date(2026, 2, 1))
    assert (first.sender, first.recipient) == ("5412345000013", "5498765000019")
    assert (first.interchange_control_ref, first.message_ref, first.function_code) == ("ICR0001", "M1", "9")
    line_1, line_2 = first.lines
    assert (line_1.line_no, line_1.sku, line_1.sku_qualifier) == (1, "ABC-100", "SA")
    assert line_1.item_ids == (("SRV", "5400000000017"), ("SA", "ABC-100"), ("IN", "B-77"))
    assert (line_1.qty, line_1.uom, line_1.unit_price) == (Decimal(10), "PCE", Decimal("12.50"))
    assert line_1.due_date == date(2026, 2, 1)  # header date
    assert (line_2.sku, line_2.sku_qualifier, line_2.qty, line_2.uom) == (
        "XYZ-200",
        "IN",
        Decimal("2.5"),
        "KGM",
    )
    assert line_2.due_date == date(2026, 2, 15)  # its own DTM+2 (format 203) overrides the header
    assert line_2.unit_price is None

    assert (second.number, second.message_ref, second.order_date) == ("PO-1002", "M2", date(2026, 1, 11))
    assert second.customer == "5412345000013"  # no NAD+BY: the UNB sender
    assert second.delivery_date is None
    assert second.lines[0].due_date is None
    assert (second.lines[0].sku, second.lines[0].qty, second.lines[0].uom) == ("ABC-300", Decimal(4), None)


def test_line_breaks_between_segments_change_nothing():
    with_breaks = parse_edi(edifact(MESSAGE_1, MESSAGE_2, sep="\r\n"))
    without = parse_edi(edifact(MESSAGE_1, MESSAGE_2, sep=""))
    assert with_breaks == without
    assert without[0].customer_name == "Smith+Sons Ltd"


def test_edifact_without_una_uses_the_default_separators():
    assert parse_edi(edifact(MESSAGE_2, una=None))[0].lines[0].qty == Decimal(4)


def test_una_custom_separators_release_and_decimal_comma():
    # component '>', element '*', decimal ',', release '/', terminator '!'
    text = (
        "UNA>*,/ !\n"
        "UNB*UNOC>3*SENDER*RECIP*260110>0930*R1!\n"
        "UNH*1*ORDERS>D>96A>UN!\n"
        "BGM*220*PO/*7*9!\n"
        "NAD*BY*BUY1>>9**Caf/! /> Co!\n"
        "LIN*1**ABC-300>SA!\n"
        "QTY*21>12,5>KGM!\n"
        "PRI*AAB>100,00>>>100!\n"
        "UNS*S!\n"
        "UNT*8*1!\n"
        "UNZ*1*R1!\n"
    )
    order = parse_edi(text)[0]
    assert (order.number, order.customer, order.customer_name) == ("PO*7", "BUY1", "Caf! > Co")
    line = order.lines[0]
    assert (line.qty, line.uom, line.unit_price) == (Decimal("12.5"), "KGM", Decimal(1))


def test_edifact_dates_in_format_101_and_without_a_format_code():
    body = [*MESSAGE_2[:2], "DTM+2:20260301", "DTM+4:260109:101", *MESSAGE_2[3:]]
    order = parse_edi(edifact(body))[0]
    assert (order.order_date, order.delivery_date) == (date(2026, 1, 9), date(2026, 3, 1))


def test_supplier_number_beats_buyer_number_which_beats_gtin():
    body = [*MESSAGE_2[:3], "LIN+1++5400000000017:SRV", "PIA+1+B-1:BP", "QTY+21:1", "UNS+S"]
    line = parse_edi(edifact(body))[0].lines[0]
    assert (line.sku, line.sku_qualifier) == ("B-1", "BP")


def test_interchange_key_is_stable_and_distinguishes_messages():
    text = edifact(MESSAGE_1, MESSAGE_2)
    first, second = parse_edi(text)
    assert interchange_key(first) == "EDIFACT/5412345000013/ICR0001//M1"
    assert interchange_key(first) == interchange_key(parse_edi(text)[0])
    assert interchange_key(first) != interchange_key(second)


# --- X12 -------------------------------------------------------------------------------------


def test_reads_two_x12_850_transaction_sets():
    first, second = parse_edi(x12(SET_1, SET_2))

    assert first.syntax == "X12"
    assert (first.number, first.customer, first.customer_name) == ("4500012345", "BUY01", "Buyer Co")
    assert (first.order_date, first.delivery_date) == (date(2026, 1, 10), date(2026, 2, 1))
    assert (first.sender, first.recipient, first.interchange_control_ref) == ("BUYERCO", "JALON", "000000101")
    assert (first.group_control_ref, first.message_ref, first.function_code) == ("7", "0001", "00")
    line_1, line_2 = first.lines
    assert (line_1.line_no, line_1.sku, line_1.sku_qualifier) == (1, "ABC-100", "VP")  # VP beats BP
    assert line_1.item_ids == (("BP", "B-100"), ("VP", "ABC-100"))
    assert (line_1.qty, line_1.uom, line_1.unit_price, line_1.due_date) == (
        Decimal(10),
        "EA",
        Decimal("12.5"),
        date(2026, 2, 1),
    )
    assert (line_2.sku, line_2.unit_price, line_2.due_date) == ("B-200", None, date(2026, 2, 15))

    assert (second.number, second.customer, second.message_ref) == ("4500012346", "Other Buyer", "0002")
    assert second.lines[0].line_no == 1  # PO101 empty: the position
    assert (second.lines[0].sku, second.lines[0].qty, second.lines[0].uom) == ("XYZ-9", Decimal(5), "CS")
    assert interchange_key(second) == "X12/BUYERCO/000000101/7/0002"


def test_x12_with_newline_as_segment_terminator():
    assert parse_edi(x12(SET_1, SET_2, term="\n")) == parse_edi(x12(SET_1, SET_2))


def test_x12_without_n1_by_uses_the_isa_sender():
    body = [SET_2[0], SET_2[1], SET_2[3]]
    assert parse_edi(x12(body))[0].customer == "BUYERCO"


# --- errors ----------------------------------------------------------------------------------


def test_unknown_syntax():
    error = only_error("Hello, this is not EDI")
    assert located(error) == (None, None, None)
    assert "unknown EDI syntax" in error.message


def test_missing_unb():
    text = edifact(MESSAGE_2).replace(UNB + "'\n", "")
    errors = errors_of(text)
    assert located(errors[0]) == ("UNH", 1, None)
    assert "UNB is missing" in errors[0].message


def test_missing_isa():
    error = only_error("\n".join(SET_2) + "\n")
    assert located(error) == ("ST", 1, None)
    assert "ISA is missing" in error.message


def test_unt_segment_count_mismatch():
    error = only_error(edifact(MESSAGE_1, MESSAGE_2).replace("UNT+17+M1", "UNT+16+M1"))
    assert located(error) == ("UNT", 18, 1)
    assert error.message.startswith("segment 18 (UNT), element 1: control count 16 does not match the 17")


def test_se_segment_count_mismatch():
    error = only_error(x12(SET_1, SET_2).replace("SE*9*0001", "SE*8*0001"))
    assert located(error) == ("SE", 11, 1)


def test_message_reference_mismatch_unh_unt():
    error = only_error(edifact(MESSAGE_1, MESSAGE_2).replace("UNT+7+M2", "UNT+7+M9"))
    assert located(error) == ("UNT", 25, 2)
    assert "'M9' does not match 'M2'" in error.message


def test_interchange_reference_mismatch_unb_unz():
    error = only_error(edifact(MESSAGE_1, MESSAGE_2).replace("UNZ+2+ICR0001", "UNZ+2+ICR0002"))
    assert located(error) == ("UNZ", 26, 2)


def test_message_count_mismatch_in_unz():
    assert located(only_error(edifact(MESSAGE_2).replace("UNZ+1+", "UNZ+3+"))) == ("UNZ", 9, 1)


def test_x12_reference_mismatches_st_se_gs_ge_isa_iea():
    text = x12(SET_1, SET_2).replace("SE*5*0002", "SE*5*0003").replace("GE*2*7", "GE*2*8")
    text = text.replace("IEA*1*000000101", "IEA*1*000000102")
    errors = errors_of(text)
    assert [located(e) for e in errors] == [("SE", 16, 2), ("GE", 17, 2), ("IEA", 18, 2)]


def test_message_type_not_orders():
    body = ["UNH+M3+INVOIC:D:96A:UN", *MESSAGE_2[1:]]
    error = only_error(edifact(body))
    assert located(error) == ("UNH", 2, 2)
    assert "'INVOIC' is not ORDERS" in error.message


def test_transaction_set_not_850():
    error = only_error(x12(["ST*810*0001", *SET_2[1:]]))
    assert located(error) == ("ST", 3, 1)


def test_missing_order_number():
    error = only_error(edifact([MESSAGE_2[0], "BGM+220++9", *MESSAGE_2[2:]]))
    assert located(error) == ("BGM", 3, 2)
    error = only_error(x12([SET_2[0], "BEG*00*SA***20260111", *SET_2[2:]]))
    assert located(error) == ("BEG", 4, 3)


def test_line_without_quantity():
    error = only_error(edifact([*MESSAGE_2[:4], MESSAGE_2[5]]))
    assert located(error) == ("LIN", 5, None)
    assert "line 1 has no ordered quantity (QTY+21)" in error.message
    error = only_error(x12([*SET_2[:3], "PO1*1**CS*7*PE*VP*XYZ-9"]))
    assert located(error) == ("PO1", 6, 2)


def test_line_without_item_id():
    error = only_error(edifact([*MESSAGE_2[:3], "LIN+1", *MESSAGE_2[4:]]))
    assert located(error) == ("LIN", 5, 3)
    error = only_error(x12([*SET_2[:3], "PO1*1*5*CS*7"]))
    assert located(error) == ("PO1", 6, 7)


def test_non_numeric_quantity_is_located_and_explained():
    error = only_error(edifact([*MESSAGE_2[:4], "QTY+21:ten:PCE", MESSAGE_2[5]]))
    assert error.message == "segment 6 (QTY), element 1: quantity 'ten' is not a number"
    assert (located(error), error.field) == (("QTY", 6, 1), "quantity")


def test_non_positive_quantity():
    assert located(only_error(edifact([*MESSAGE_2[:4], "QTY+21:0", MESSAGE_2[5]]))) == ("QTY", 6, 1)
    error = only_error(x12([*SET_2[:3], "PO1*1*-2*CS*7*PE*VP*XYZ-9"]))
    assert located(error) == ("PO1", 6, 2)
    assert "must be positive" in error.message


def test_bad_dates():
    error = only_error(edifact([*MESSAGE_2[:2], "DTM+2:20260230:102", *MESSAGE_2[2:]]))
    assert located(error) == ("DTM", 4, 1)
    assert "not a valid calendar date" in error.message
    error = only_error(x12([*SET_2, "DTM*002*2026-02-01"]))
    assert located(error) == ("DTM", 7, 2)


def test_no_line_at_all():
    error = only_error(edifact([*MESSAGE_2[:3], "UNS+S"]))
    assert located(error) == ("UNT", 6, None)
    assert located(only_error(x12(SET_2[:3]))) == ("SE", 6, None)


def test_all_problems_are_reported_together():
    text = edifact(MESSAGE_1, MESSAGE_2).replace("QTY+21:10:PCE", "QTY+21:ten:PCE")
    text = text.replace("DTM+137:260111:101", "DTM+137:261311:101").replace("UNZ+2+", "UNZ+5+")
    errors = errors_of(text)
    assert [located(e) for e in errors] == [("QTY", 10, 1), ("DTM", 21, 1), ("UNZ", 26, 1)]
    assert str(EdiSyntaxError(errors)).startswith("3 EDI errors:\nsegment 10 (QTY)")


def test_orders_are_plain_values():
    order = parse_edi(edifact(MESSAGE_2))[0]
    assert isinstance(order, EdiOrder)
    assert hash(order) == hash(parse_edi(edifact(MESSAGE_2))[0])


def test_missing_trailers_are_reported_where_they_were_expected():
    errors = errors_of(
        edifact(MESSAGE_1, MESSAGE_2).replace("UNT+17+M1'\n", "").replace("\nUNZ+2+ICR0001'", "")
    )
    assert [located(e) for e in errors] == [("UNH", 2, None), ("UNT", 24, None)]
    assert errors[0].message == "segment 2 (UNH): message 'M1' has no trailer UNT before segment 18 (UNH)"
    assert located(only_error(x12(SET_2).replace("IEA*1*000000101~\n", ""))) == ("GE", 8, None)
