"""What the use cases share: ids, problems, row → public conversions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from services.mrp.api.schemas import (
    ComponentQty,
    OrderPublic,
    SalesOrderLinePublic,
    SalesOrderPublic,
)
from shared.web.problems import Conflict


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class InvalidTransition(Conflict):
    title = "Invalid transition"
    type_ = "invalid-transition"


class ComponentShortage(Conflict):
    title = "Component shortage"
    type_ = "component-shortage"


class DuplicateOrder(Conflict):
    title = "Duplicate order"
    type_ = "duplicate"


def sales_order_public(row: Any, lines: Sequence[Any]) -> SalesOrderPublic:
    return SalesOrderPublic(
        id=row["id"],
        number=row["number"],
        customer=row["customer"],
        status=row["status"],
        source=row["source"],
        interchange_key=row["interchange_key"],
        version=row["version"],
        lines=[
            SalesOrderLinePublic(
                line=ln["line"],
                sku=ln["sku"],
                qty=Decimal(ln["qty"]),
                due_date=ln["due_date"],
                status=ln["status"],
            )
            for ln in lines
        ],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def order_public(row: Any) -> OrderPublic:
    quantity = Decimal(row["quantity"])
    received = Decimal(row["received_qty"])
    return OrderPublic(
        id=row["id"],
        kind=row["kind"],
        sku=row["sku"],
        quantity=quantity,
        received_qty=received,
        remaining_qty=max(Decimal(0), quantity - received),
        release_date=row["release_date"],
        due_date=row["due_date"],
        status=row["status"],
        supplier=row["supplier"],
        unit_price=Decimal(row["unit_price"]) if row["unit_price"] is not None else None,
        purchase_order_id=row["purchase_order_id"],
        source_run=row["source_run"],
        source_planned_order=row["source_planned_order"],
        components=[ComponentQty(sku=c["sku"], qty=Decimal(str(c["qty"]))) for c in row["components"]]
        if row["components"] is not None
        else None,
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
