"""Master data through the gateway: PUT item, PUT BOM, explosion, export."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from shared.runtime.stack import Stack


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=30
    ) as client:
        yield client


def test_an_item_and_its_bom_explode_and_export_through_the_gateway(admin: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    unit, parent, part = f"U{tag}", f"CHAIR-{tag}", f"LEG-{tag}"
    assert admin.put(f"/v1/masterdata/units/{unit}", json={"name": "each"}).status_code == 201
    made = admin.put(f"/v1/masterdata/items/{parent}", json={"name": "Chair", "uom": unit, "kind": "make"})
    assert made.status_code == 201, made.text
    assert made.headers["etag"] == '"1"'
    assert (
        admin.put(
            f"/v1/masterdata/items/{part}", json={"name": "Leg", "uom": unit, "kind": "buy"}
        ).status_code
        == 201
    )
    bom = admin.put(f"/v1/masterdata/boms/{parent}", json={"lines": [{"component": part, "qty_per": 4}]})
    assert bom.status_code == 201, bom.text

    stale = admin.put(
        f"/v1/masterdata/items/{parent}",
        json={"name": "Chair v2", "uom": unit, "kind": "make"},
        headers={"If-Match": '"7"'},
    )
    assert stale.status_code == 412

    explosion = admin.get(f"/v1/masterdata/items/{parent}/explosion", params={"qty": 5})
    assert explosion.status_code == 200, explosion.text
    assert explosion.json()["totals"] == [{"sku": part, "quantity": 20}]
    assert explosion.json()["lines"][1]["low_level_code"] == 1

    seen: dict[tuple[str, str], dict[str, object]] = {}
    with admin.stream("GET", "/v1/masterdata/export", params={"kinds": "item,bom,low_level_code"}) as r:
        assert r.status_code == 200
        lines = [json.loads(line) for line in r.iter_lines() if line]
    assert lines[0]["kind"] == "header"
    assert lines[-1] == {"kind": "end", "count": len(lines) - 2}
    for line in lines[1:-1]:
        seen[(line["kind"], line["key"])] = line
    assert seen[("item", parent)]["version"] == 1
    assert seen[("bom", parent)]["record"] == {
        "parent": parent,
        "lines": [
            {
                "component": part,
                "qty_per": 4,
                "scrap_pct": 0,
                "valid_from": None,
                "valid_to": None,
                "uom": None,
            }
        ],
    }
    assert seen[("low_level_code", part)]["record"] == {"sku": part, "low_level_code": 1}
