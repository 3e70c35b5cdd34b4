"""The inventory HTTP API: one router module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from services.inventory.api import analytics, counts, locations, movements, reservations, valuation


def routers() -> list[APIRouter]:
    return [
        movements.router,
        locations.router,
        reservations.router,
        valuation.router,
        counts.router,
        analytics.router,
    ]
