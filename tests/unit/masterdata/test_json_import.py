"""The lean JSON import parser gives the records the pydantic models give, or gives up."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.masterdata import json_import
from services.masterdata.api import imports
from services.masterdata.api.schemas import ImportBody, body_record
from services.masterdata.domain.model import MasterDataBatch
from services.masterdata.events import COLLECTIONS, from_record


def by_models(body: dict[str, Any]) -> MasterDataBatch:
    parsed = ImportBody.model_validate_json(json.dumps(body))
    return MasterDataBatch(
        **{
            collection: tuple(from_record(kind, body_record(b)) for b in getattr(parsed, collection))
            for kind, collection in COLLECTIONS.items()
        }
    )


ACCEPTED = [
    {"items": [{"sku": "A", "name": "a", "uom": "EA", "kind": "make"}]},
    {
        "items": [
            {
                "sku": "A",
                "name": "a",
                "uom": "EA",
                "kind": "buy",
                "family": "F",
                "lead_time_days": 3,
                "safety_stock": 2.5,
                "lot_sizing": {"rule": "fixed", "quantity": 12.75, "min_qty": 1, "max_qty": None},
                "standard_cost": 1e3,
                "phantom": False,
                "version": 2,
                "low_level_code": 3,
            }
        ]
    },
    {
        "boms": [
            {
                "parent": "A",
                "lines": [
                    {"component": "B", "qty_per": 0.1},
                    {"component": "C", "qty_per": 2, "scrap_pct": 2.5, "uom": "G"},
                    {"component": "D", "qty_per": 1, "valid_from": "2026-01-01", "valid_to": None},
                ],
            }
        ]
    },
    {
        "routings": [
            {
                "sku": "A",
                "operations": [
                    {"seq": 10, "work_center": "W"},
                    {
                        "seq": 20,
                        "work_center": "W",
                        "setup_minutes": 15,
                        "run_minutes_per_unit": 0.75,
                        "alternates": [{"work_center": "V", "run_minutes_per_unit": 1.5}],
                    },
                ],
            }
        ]
    },
    {
        "units": [{"code": "EA"}],
        "unit_conversions": [{"from_uom": "KG", "to_uom": "G", "factor": 1000}],
        "calendars": [{"code": "C", "weekdays": {"mon": [["06:00", "14:00"]]}, "holidays": ["2026-01-01"]}],
    },
]

REFUSED = [
    {"items": [{"sku": "A", "name": "a", "uom": "EA", "kind": "make", "lead_time_days": 1.0}]},
    {"items": [{"sku": "A", "name": "a", "uom": "EA", "kind": "make", "safety_stock": "1.5"}]},
    {"items": [{"name": "a", "uom": "EA", "kind": "make"}]},
    {"items": [{"sku": "A", "name": "a", "uom": "EA", "kind": "other"}]},
    {"items": [{"sku": "A", "name": "a", "uom": "EA", "kind": "make", "colour": "red"}]},
    {"boms": [{"parent": "A", "lines": [{"component": "B", "qty_per": True}]}]},
    {"boms": [{"parent": "A", "lines": [{"component": "", "qty_per": 1}]}]},
    {"boms": [{"parent": "A", "lines": [{"component": "B", "qty_per": 1, "valid_from": "2026-W01-1"}]}]},
    {"boms": [{"parent": "A", "lines": [{"component": "B", "qty_per": 1, "scrap_pct": None}]}]},
    {"routings": [{"sku": "A", "operations": [{"seq": "10", "work_center": "W"}]}]},
    {"elsewhere": []},
]


@pytest.mark.parametrize("body", ACCEPTED)
def test_the_lean_parser_gives_what_the_models_give(body: dict[str, Any]) -> None:
    assert json_import.parse_fast(json.dumps(body).encode()) == by_models(body)


@pytest.mark.parametrize("body", REFUSED)
def test_the_lean_parser_leaves_anything_unusual_to_the_models(body: dict[str, Any]) -> None:
    with pytest.raises(json_import.Fallback):
        json_import.parse_fast(json.dumps(body).encode())


def test_a_body_the_lean_parser_gives_up_on_is_still_parsed_or_refused_by_the_models() -> None:
    body = {"items": [{"sku": "A", "name": "a", "uom": "EA", "kind": "make", "safety_stock": "1.5"}]}
    assert imports._from_json(json.dumps(body).encode()) == by_models(body)
