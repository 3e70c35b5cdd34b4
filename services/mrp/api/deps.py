"""Dependencies of the mrp routes: the service's planning state on ``app.state.mrp``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.mrp.handlers.runs import MrpRunner
from services.mrp.handlers.stock import InventoryClient
from services.mrp.settings import MrpSettings


@dataclass
class MrpState:
    settings: MrpSettings
    inventory: InventoryClient
    runner: MrpRunner | None = None


def mrp_state(request: Request) -> MrpState:
    state: MrpState = request.app.state.mrp
    return state


def runner(request: Request) -> MrpRunner:
    r = mrp_state(request).runner
    assert r is not None, "the service is not started"
    return r


MrpStateDep = Annotated[MrpState, Depends(mrp_state)]
RunnerDep = Annotated[MrpRunner, Depends(runner)]
