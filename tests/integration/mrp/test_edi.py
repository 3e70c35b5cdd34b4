"""EDI intake: an EDIFACT ORDERS interchange booked once, located errors, replays."""

from __future__ import annotations

from tests.integration.mrp.conftest import Mrp

HEADERS = {"Content-Type": "text/plain"}


def interchange(ref: str = "ICR0001", qty: str = "10", number: str = "PO-1001") -> str:
    body = [
        "UNH+M1+ORDERS:D:96A:UN:EAN008",
        f"BGM+220+{number}+9",
        "DTM+137:20260110:102",
        "DTM+2:20260201:102",
        "NAD+BY+ACME::9",
        "LIN+1++5400000000017:SRV",
        "PIA+5+BIKE:SA",
        f"QTY+21:{qty}:PCE",
        "LIN+2++5400000000024:SRV",
        "PIA+1+BUYER-WHEEL:IN+WHEEL:SA",
        "QTY+21:2.5:PCE",
        "DTM+2:20260215:102",
        "UNS+S",
    ]
    segments = [
        f"UNB+UNOC:3+BUYER:14+JALON:14+260110:0930+{ref}",
        *body,
        f"UNT+{len(body) + 1}+M1",
        f"UNZ+1+{ref}",
    ]
    return "UNA:+.? '\n" + "\n".join(s + "'" for s in segments)


async def test_an_interchange_is_booked_once_and_a_replay_answers_the_same_orders(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    await mrp.item("WHEEL")
    first = await mrp.client.post("/v1/mrp/sales-orders/edi", content=interchange(), headers=HEADERS)
    assert first.status_code == 201, first.text
    [order] = first.json()["items"]
    assert (order["number"], order["customer"], order["source"]) == ("PO-1001", "ACME", "edi")
    assert [(ln["sku"], ln["qty"], ln["due_date"]) for ln in order["lines"]] == [
        ("BIKE", 10, "2026-02-01"),
        ("WHEEL", 2.5, "2026-02-15"),
    ]
    again = await mrp.client.post("/v1/mrp/sales-orders/edi", content=interchange(), headers=HEADERS)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["items"] == [order]
    assert await mrp.scalar("SELECT count(*) FROM sales_orders") == 1
    assert len(await mrp.events("jalon.mrp.sales_order.created")) == 1
    # The same order number in another interchange is a duplicate, not a replay.
    other = await mrp.client.post(
        "/v1/mrp/sales-orders/edi", content=interchange(ref="ICR0002"), headers=HEADERS
    )
    assert other.status_code == 409


async def test_a_bad_segment_is_a_422_locating_it_and_nothing_is_booked(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    await mrp.item("WHEEL")
    r = await mrp.client.post("/v1/mrp/sales-orders/edi", content=interchange(qty="ten"), headers=HEADERS)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    [error] = r.json()["errors"]
    assert error["field"] == "segment 9 (QTY) element 1"
    assert (error["segment_tag"], error["segment_index"], error["element_position"]) == ("QTY", 9, 1)
    assert "ten" in error["message"]
    unknown = await mrp.client.post(
        "/v1/mrp/sales-orders/edi", content=interchange().replace("BIKE", "TRIKE"), headers=HEADERS
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "messages[0].lines[0].sku"
    garbage = await mrp.client.post("/v1/mrp/sales-orders/edi", content="hello", headers=HEADERS)
    assert garbage.status_code == 422
    assert garbage.json()["errors"][0]["field"] == "syntax"
    assert await mrp.scalar("SELECT count(*) FROM sales_orders") == 0
