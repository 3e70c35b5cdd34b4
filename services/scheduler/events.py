"""The scheduler's outgoing messages: solve jobs for the work queue, and its events.

- ``jalon.jobs.scheduler.solve`` (stream ``JALON_JOBS``, a work queue): ``data = {"solve_id"}``;
  written to the outbox with the solve, so a committed solve is always enqueued, exactly once
  (``Nats-Msg-Id`` = the event id).
- ``jalon.scheduler.solve.completed`` (stream ``JALON_SCHEDULER``): a solve ended (succeeded,
  failed or cancelled) with ``data = {"solve_id", "status", "solver_status", "objective",
  "best_bound", "gap", "attempts", "worker"}``.
"""

from __future__ import annotations

from typing import Any

from services.scheduler.db.tables import SolveRow
from shared.events import CloudEvent, new_event
from shared.logging import current_correlation_id

SOURCE = "/jalon/scheduler"


def solve_job(solve_id: str, subject: str) -> CloudEvent:
    """The work-queue message asking a worker to run solve ``solve_id`` (type = NATS subject)."""
    return CloudEvent(
        source=SOURCE,
        type=subject,
        subject=solve_id,
        correlationid=current_correlation_id(),
        data={"solve_id": solve_id},
    )


def solve_id_of(job: CloudEvent) -> str:
    solve_id = job.data.get("solve_id")
    if not isinstance(solve_id, str) or not solve_id:
        raise ValueError("a solve job needs data.solve_id")
    return solve_id


def solve_completed(solve: SolveRow, correlation_id: str | None = None) -> CloudEvent:
    data: dict[str, Any] = {
        "solve_id": solve.id,
        "status": solve.status,
        "solver_status": solve.solver_status,
        "objective": solve.objective,
        "best_bound": solve.best_bound,
        "gap": solve.gap,
        "attempts": solve.attempts,
        "worker": solve.worker_id,
    }
    return new_event("scheduler", "solve", "completed", data, subject=solve.id, correlation_id=correlation_id)
