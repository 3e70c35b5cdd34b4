"""Solve workers as real processes: one killed mid-solve (its job is redelivered and finished by
another), one stopped with SIGTERM (its job is handed back at once)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from services.scheduler.api.schemas import SolveCreate
from services.scheduler.domain.model import Assignment
from services.scheduler.domain.validator import validate
from tests.integration.scheduler.conftest import Scheduler, eventually, jssp_body

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_worker_killed_mid_solve_leaves_the_job_to_another_worker_which_finishes_it(
    scheduler: Scheduler, tmp_path: Path
) -> None:
    fast_redelivery = {"JALON_SCHEDULER_JOB_ACK_WAIT_S": "5"}
    first = scheduler.spawn_worker("worker-1", tmp_path / "worker-1.log", **fast_redelivery)
    body = jssp_body("ta21", time_limit_s=8.0)
    solve_id = await scheduler.submit(body)
    running = await scheduler.wait_for(solve_id, "running", within_s=30)
    assert (running["worker"], running["attempts"]) == ("worker-1", 1)
    await eventually(lambda: _progressed(scheduler, solve_id), within_s=10)

    first.send_signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    second = scheduler.spawn_worker("worker-2", tmp_path / "worker-2.log", **fast_redelivery)

    taken_over = await scheduler.wait_for(solve_id, "running", within_s=30)
    await eventually(lambda: _attempt(scheduler, solve_id, 2), within_s=30)
    done = await scheduler.wait_for(solve_id, "succeeded", "failed", "cancelled", within_s=60)
    assert taken_over["status"] == "running"
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    assert done["worker"] == "worker-2"
    assert done["solver_status"] in ("feasible", "optimal")
    items = await scheduler.assignments(solve_id)
    assert len(items) == 400
    assert max(a["end"] for a in items) == done["objective"]
    problem = SolveCreate.model_validate(body).to_problem()
    assert validate(problem, [Assignment(**a) for a in items]) == []
    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0


async def test_a_worker_stopped_with_sigterm_hands_its_job_back_for_another_worker(
    scheduler: Scheduler, tmp_path: Path
) -> None:
    worker = scheduler.spawn_worker(
        "worker-term", tmp_path / "worker-term.log", JALON_SCHEDULER_SHUTDOWN_GRACE_S="0.5"
    )
    solve_id = await scheduler.submit(jssp_body("ta21", time_limit_s=20.0))
    await scheduler.wait_for(solve_id, "running", within_s=30)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    back = await scheduler.solve(solve_id)
    assert (back["status"], back["attempts"], back["progress"]) == ("queued", 1, 0)
    # Negatively acknowledged: the next worker gets it at once (no ack_wait), and can be told to
    # stop it early.
    async with scheduler.worker("w-next"):
        await scheduler.wait_for(solve_id, "running", within_s=10)
        await scheduler.client.post(f"/v1/scheduler/solves/{solve_id}/cancel")
        done = await scheduler.wait_for(solve_id, "cancelled", within_s=10)
    assert (done["worker"], done["attempts"]) == ("w-next", 2)


async def _progressed(scheduler: Scheduler, solve_id: str) -> bool:
    s = await scheduler.solve(solve_id)
    return bool(s["progress"] > 0)


async def _attempt(scheduler: Scheduler, solve_id: str, attempt: int) -> bool:
    s = await scheduler.solve(solve_id)
    return bool(s["attempts"] == attempt)
