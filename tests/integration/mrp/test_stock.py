"""The local stock replica fed by inventory's stock.changed events."""

from __future__ import annotations

from decimal import Decimal

from services.mrp.events import on_inventory_stock_changed
from shared.events import new_event
from tests.integration.mrp.conftest import Mrp


def moved(seq: int, *balances: tuple[str, str, int, int]) -> object:
    return new_event(
        "inventory",
        "stock",
        "changed",
        {
            "movement_id": f"mv-{seq}",
            "seq": seq,
            "type": "transfer",
            "sku": balances[0][0],
            "location": balances[0][1],
            "on_hand": str(balances[0][2]),
            "reserved": str(balances[0][3]),
            "balances": [
                {
                    "sku": s,
                    "location": loc,
                    "lot": None,
                    "qty_delta": "0",
                    "on_hand": str(oh),
                    "reserved": str(r),
                }
                for s, loc, oh, r in balances
            ],
        },
    )


async def apply(mrp: Mrp, event: object) -> None:
    async with mrp.app.state.runtime.sessionmaker() as session, session.begin():
        await on_inventory_stock_changed(session, event)  # type: ignore[arg-type]


async def test_a_position_is_applied_only_when_its_movement_is_newer(mrp: Mrp) -> None:
    await mrp.stock("RM", 0, location="QA", nettable=False)  # the replica knows QA is not nettable
    await apply(mrp, moved(5, ("RM", "MAIN", 10, 2), ("RM", "QA", 4, 0)))
    await apply(mrp, moved(3, ("RM", "MAIN", 99, 0)))  # older: ignored
    rows = await mrp.sql(
        "SELECT location, on_hand, reserved, nettable, seq FROM stock_positions ORDER BY location"
    )
    assert rows == [("MAIN", Decimal(10), Decimal(2), True, 5), ("QA", Decimal(4), Decimal(0), False, 5)]
    await apply(mrp, moved(6, ("RM", "MAIN", 7, 2)))
    assert await mrp.scalar("SELECT on_hand FROM stock_positions WHERE location = 'MAIN'") == 7
    changes = await mrp.sql("SELECT sku, reason FROM mrp_changes ORDER BY seq")
    assert changes == [("RM", "stock"), ("RM", "stock")]
