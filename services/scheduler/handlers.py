"""Use cases of the scheduler API: each loads through the unit of work, decides, commits once.

The API never solves: ``submit_solve`` stores the problem and a queued solve and writes the job
message to the outbox in the same transaction; the workers (``services.scheduler.worker``) do the
rest.
"""

from __future__ import annotations

import uuid

from services.scheduler import events
from services.scheduler.api.schemas import SolveCreate
from services.scheduler.db import repositories as repo
from services.scheduler.db.tables import SolveRow, SolveStatus
from services.scheduler.domain.model import structural_errors
from shared.db.platform import utcnow
from shared.db.uow import UnitOfWork
from shared.web.problems import Conflict, FieldError, NotFound, ValidationFailed


def check_solve(body: SolveCreate, *, max_time_limit_s: float) -> None:
    """Raise a 422 naming every bad field of an explicit problem; the domain checks last."""
    errors = body.field_errors(max_time_limit_s)
    if not errors:
        errors = [FieldError(field="body", message=m) for m in structural_errors(body.to_problem())]
    if errors:
        raise ValidationFailed(errors)


async def submit_solve(
    uow: UnitOfWork, body: SolveCreate, *, job_subject: str, client: str | None
) -> SolveRow:
    """Store a queued solve and its problem, and enqueue its job (outbox); the caller commits."""
    solve = SolveRow(
        id=str(uuid.uuid4()),
        status=SolveStatus.QUEUED,
        objectives=list(body.objective),
        time_limit_s=body.time_limit_s,
        num_workers=body.num_workers,
        jobs=len(body.jobs),
        operations=body.operation_count(),
        machines=len(body.machines()),
        client=client,
    )
    await repo.add_solve(uow.session, solve, body.model_dump(mode="json"))
    uow.emit(events.solve_job(solve.id, job_subject))
    return solve


async def cancel_solve(uow: UnitOfWork, solve_id: str) -> SolveRow:
    """A queued solve is cancelled at once; a running one is flagged, and its worker stops it
    (keeping the best schedule so far). Cancelling a cancelled solve changes nothing; a finished
    one is a 409."""
    solve = await repo.get_solve(uow.session, solve_id, for_update=True)
    if solve is None:
        raise NotFound(f"no solve {solve_id!r}")
    status = SolveStatus(solve.status)
    if status is SolveStatus.QUEUED:
        solve.status = SolveStatus.CANCELLED
        solve.cancel_requested = True
        solve.finished_at = utcnow()
        solve.progress = 1.0
        uow.session.add(solve)
        uow.emit(events.solve_completed(solve))
    elif status is SolveStatus.RUNNING:
        solve.cancel_requested = True
        uow.session.add(solve)
    elif status is not SolveStatus.CANCELLED:
        raise Conflict(f"solve {solve_id} has already {status.value}; there is nothing to cancel")
    await uow.commit()
    return solve
