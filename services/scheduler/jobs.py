"""Running one solve job (a message of the ``JALON_JOBS`` work queue) inside a worker.

For each delivery:

1. **claim** (one transaction, the solve row locked): a solve already finished — a redelivery after
   a crash between commit and ack — is acknowledged without solving again; one delivered more than
   ``max_deliver`` times is marked failed; otherwise it becomes ``running`` with ``attempts + 1``
   and this worker's id. The attempt number fences every later write of this worker.
2. **solve** in a thread (``asyncio.to_thread``) while the event loop writes progress, objective,
   bound and a heartbeat every ``progress_interval_s`` (reading back the cancel flag), and sends
   ``msg.in_progress()`` often enough that JetStream does not deliver the job again mid-solve.
   A cancel flag, or the end of the shutdown grace, sets the solver's stop event.
3. **store** (one transaction): the schedule, checked by ``domain.validator`` first, its figures,
   the final state and the ``jalon.scheduler.solve.completed`` event (outbox). Only then **ack**.

A worker killed at any point leaves the message unacknowledged: JetStream delivers it again after
``ack_wait`` and the next worker takes over (its claim makes the old attempt's writes no-ops).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nats.aio.msg import Msg

from services.scheduler import events
from services.scheduler.api.schemas import SolveCreate
from services.scheduler.db import repositories as repo
from services.scheduler.db.tables import SolveRow, SolveStatus
from services.scheduler.domain.cpsat import Progress, SolverParams, solve
from services.scheduler.domain.model import Objective, Problem, Solution
from services.scheduler.domain.validator import check_solution, recompute_objectives
from services.scheduler.schedules import JOB_KIND as SCHEDULE_JOB_KIND
from services.scheduler.schedules import ScheduleJobRunner
from services.scheduler.settings import SchedulerSettings
from shared.db.engine import SessionMaker
from shared.db.platform import OutboxRow, utcnow
from shared.events import CloudEvent
from shared.logging import get_logger

log = get_logger(__name__)


class Outcome(StrEnum):
    SOLVED = "solved"  # result stored (succeeded, cancelled or failed), acknowledged
    SKIPPED = "skipped"  # nothing to do (already finished, cancelled while queued), acknowledged
    GAVE_UP = "gave_up"  # delivered too often: marked failed, acknowledged
    HANDED_BACK = "handed_back"  # worker shutting down: back to queued, negatively acknowledged
    LOST = "lost"  # another worker took the job over: left alone
    RETRY = "retry"  # the database failed us: negatively acknowledged, delivered again later
    POISON = "poison"  # not a solve job: terminated


@dataclass
class _Claimed:
    solve_id: str
    attempt: int
    problem: Problem
    time_limit_s: float
    num_workers: int
    correlation_id: str | None


class SolveJobRunner:
    """Runs solve jobs for one worker process (any number of them at once)."""

    def __init__(
        self,
        settings: SchedulerSettings,
        sessionmaker: SessionMaker,
        worker_id: str,
        *,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.worker_id = worker_id
        self._on_commit = on_commit
        self.outcomes: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
        self._schedules = ScheduleJobRunner(settings, sessionmaker, worker_id, self._wake)

    @property
    def heartbeat_interval_s(self) -> float:
        return max(
            0.2, min(self.settings.scheduler_heartbeat_interval_s, self.settings.scheduler_job_ack_wait_s / 3)
        )

    async def handle(self, msg: Msg, shutting_down: asyncio.Event | None = None) -> Outcome:
        outcome = await self._handle(msg, shutting_down or asyncio.Event())
        self.outcomes[outcome] += 1
        return outcome

    async def _handle(self, msg: Msg, shutting_down: asyncio.Event) -> Outcome:
        try:
            job = CloudEvent.from_bytes(msg.data)
            scheduled = job.data.get("kind") == SCHEDULE_JOB_KIND
            solve_id = "" if scheduled else events.solve_id_of(job)
        except ValueError as exc:
            log.error("not a solve job; terminated", subject=msg.subject, error=str(exc))
            await msg.term()
            return Outcome.POISON
        if scheduled:  # a plant schedule (``services.scheduler.schedules``)
            return Outcome(await self._schedules.handle(msg, job, shutting_down, self.heartbeat_interval_s))
        delivered = msg.metadata.num_delivered
        try:
            claimed = await self._claim(solve_id, delivered, job.correlationid)
        except Exception as exc:
            log.warning("could not claim solve; will retry", solve_id=solve_id, error=str(exc))
            await msg.nak(delay=2.0)
            return Outcome.RETRY
        if isinstance(claimed, Outcome):
            if claimed is Outcome.POISON:
                await msg.term()
            else:
                await msg.ack()
            return claimed
        log.info("solve started", solve_id=solve_id, attempt=claimed.attempt, delivered=delivered)
        return await self._run(msg, claimed, shutting_down)

    # -- 1. claim -------------------------------------------------------------------------------
    async def _claim(self, solve_id: str, delivered: int, correlation_id: str | None) -> _Claimed | Outcome:
        """Start an attempt, or the outcome of a job that needs no solving (committed either way)."""
        async with self.sessionmaker() as session, session.begin():
            solve = await repo.get_solve(session, solve_id, for_update=True)
            if solve is None:
                log.error("solve job for an unknown solve; dropped", solve_id=solve_id)
                return Outcome.POISON
            status = SolveStatus(solve.status)
            if status.finished:
                log.info("solve already finished; acknowledged", solve_id=solve_id, status=status.value)
                return Outcome.SKIPPED
            reason = None
            if delivered > self.settings.scheduler_job_max_deliver:
                reason = f"gave up after {delivered - 1} deliveries (workers died or stalled on it)"
            elif solve.cancel_requested:  # cancelled while its last worker was dying
                reason = "cancelled"
            problem: Problem | None = None
            if reason is None:
                data = await repo.get_problem(session, solve_id)
                try:
                    problem = SolveCreate.model_validate(data).to_problem() if data else None
                except ValueError as exc:
                    reason = f"stored problem unreadable: {exc}"
                if problem is None and reason is None:
                    reason = "the solve's problem is missing"
            if reason is not None or problem is None:
                cancelled = reason == "cancelled"
                self._finish(
                    session,
                    solve,
                    SolveStatus.CANCELLED if cancelled else SolveStatus.FAILED,
                    error=None if cancelled else reason,
                    correlation_id=correlation_id,
                )
                log.warning("solve ended without solving", solve_id=solve_id, reason=reason)
                outcome = Outcome.SKIPPED if cancelled else Outcome.GAVE_UP
            else:
                attempt = await repo.start_attempt(session, solve, self.worker_id)
                outcome = None
        if outcome is not None or problem is None:
            self._wake()
            return outcome or Outcome.GAVE_UP
        return _Claimed(
            solve_id=solve_id,
            attempt=attempt,
            problem=problem,
            time_limit_s=solve.time_limit_s,
            num_workers=solve.num_workers or self.settings.scheduler_default_num_workers,
            correlation_id=correlation_id,
        )

    def _wake(self) -> None:
        if self._on_commit is not None:
            self._on_commit()

    def _finish(
        self,
        session: Any,
        solve: SolveRow,
        status: SolveStatus,
        *,
        error: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        now = utcnow()
        solve.status = status
        solve.finished_at = now
        solve.progress = 1.0
        solve.heartbeat_at = now
        solve.error = error
        if solve.started_at is not None:
            solve.wall_s = round((now - solve.started_at).total_seconds(), 3)
        session.add(solve)
        event = events.solve_completed(solve, correlation_id)
        session.add(OutboxRow(event_id=event.id, subject=event.nats_subject, payload=event.model_dump_json()))

    # -- 2. solve -------------------------------------------------------------------------------
    async def _run(self, msg: Msg, claimed: _Claimed, shutting_down: asyncio.Event) -> Outcome:
        stop = threading.Event()
        latest: list[Progress] = []
        started = time.monotonic()
        params = SolverParams(time_limit_s=claimed.time_limit_s, num_workers=claimed.num_workers)
        task = asyncio.create_task(asyncio.to_thread(solve, claimed.problem, params, latest.append, stop))
        cancelled = lost = handed_back = False
        last_beat = time.monotonic()
        grace_ends: float | None = None
        while not task.done():
            await asyncio.wait({task}, timeout=self.settings.scheduler_progress_interval_s)
            if task.done():
                break
            now = time.monotonic()
            if now - last_beat >= self.heartbeat_interval_s:
                last_beat = now
                with contextlib.suppress(Exception):
                    await msg.in_progress()
            if shutting_down.is_set() and not stop.is_set():
                grace_ends = grace_ends or now + self.settings.scheduler_shutdown_grace_s
                if now >= grace_ends:
                    log.info(
                        "shutting down: stopping the solve and handing it back", solve_id=claimed.solve_id
                    )
                    handed_back = True
                    stop.set()
            flag = await self._report(claimed, latest[-1] if latest else None, now - started)
            if flag is None:
                lost = True
                stop.set()
            elif flag and not stop.is_set():
                log.info("cancel requested: stopping the solve", solve_id=claimed.solve_id)
                cancelled = True
                stop.set()
        try:
            solution = task.result()
        except Exception as exc:
            log.exception("solve raised", solve_id=claimed.solve_id)
            return await self._store(msg, claimed, None, error=f"{type(exc).__name__}: {exc}")
        if lost:
            log.warning("solve was taken over by another worker; result dropped", solve_id=claimed.solve_id)
            return Outcome.LOST
        if handed_back:
            return await self._hand_back(msg, claimed)
        return await self._store(msg, claimed, solution, cancelled=cancelled)

    async def _report(self, claimed: _Claimed, progress: Progress | None, elapsed: float) -> bool | None:
        """Write progress; the solve's cancel flag, or None when this attempt no longer owns it."""
        objective = bound = None
        gap = None
        if progress is not None and progress.level == 0:
            objective, bound = progress.objective, min(progress.best_bound, progress.objective)
            gap = max(0.0, (objective - bound) / objective) if objective > 0 else 0.0
        try:
            async with self.sessionmaker() as session, session.begin():
                return await repo.record_progress(
                    session,
                    claimed.solve_id,
                    claimed.attempt,
                    progress=min(0.99, elapsed / claimed.time_limit_s),
                    objective=objective,
                    best_bound=bound,
                    gap=gap,
                )
        except Exception as exc:  # the database away for a moment: the solve goes on
            log.warning("could not record progress", solve_id=claimed.solve_id, error=str(exc))
            return False

    # -- 3. store -------------------------------------------------------------------------------
    async def _store(
        self,
        msg: Msg,
        claimed: _Claimed,
        solution: Solution | None,
        *,
        cancelled: bool = False,
        error: str | None = None,
    ) -> Outcome:
        problem = claimed.problem
        if solution is not None:
            violations = check_solution(problem, solution)
            if violations:
                error = "the schedule failed validation: " + "; ".join(v.message for v in violations[:5])
                log.error("solver schedule rejected by the validator", solve_id=claimed.solve_id, error=error)
                solution = None
        try:
            async with self.sessionmaker() as session, session.begin():
                solve = await repo.lock_attempt(session, claimed.solve_id, claimed.attempt)
                if solve is None:
                    log.warning(
                        "solve was taken over before its result was stored", solve_id=claimed.solve_id
                    )
                    return Outcome.LOST
                if solution is not None:
                    await repo.replace_assignments(
                        session,
                        claimed.solve_id,
                        [
                            {
                                "job": a.job,
                                "operation": a.operation,
                                "machine": a.machine,
                                "start": a.start,
                                "end": a.end,
                            }
                            for a in solution.assignments
                        ],
                    )
                    values = recompute_objectives(problem, solution.assignments)
                    solve.solver_status = solution.status.value
                    solve.objective = solution.objective
                    solve.best_bound = solution.best_bound
                    solve.gap = solution.gap
                    solve.objective_values = (
                        {o.value: values[Objective(o)] for o in problem.objective}
                        if solution.assignments
                        else None
                    )
                    solve.statistics = {
                        **dict(solution.stats),
                        "solver_wall_s": round(solution.wall_time_s, 3),
                        "assignments": len(solution.assignments),
                    }
                status = (
                    SolveStatus.FAILED
                    if error
                    else SolveStatus.CANCELLED
                    if cancelled
                    else SolveStatus.SUCCEEDED
                )
                self._finish(session, solve, status, error=error, correlation_id=claimed.correlation_id)
        except Exception as exc:
            log.warning("could not store the result; will retry", solve_id=claimed.solve_id, error=str(exc))
            await msg.nak(delay=2.0)
            return Outcome.RETRY
        self._wake()
        await msg.ack()
        log.info(
            "solve finished",
            solve_id=claimed.solve_id,
            status=status.value,
            objective=solve.objective,
            attempt=claimed.attempt,
        )
        return Outcome.SOLVED

    async def _hand_back(self, msg: Msg, claimed: _Claimed) -> Outcome:
        try:
            async with self.sessionmaker() as session, session.begin():
                solve = await repo.lock_attempt(session, claimed.solve_id, claimed.attempt)
                if solve is None:
                    return Outcome.LOST
                solve.status = SolveStatus.QUEUED
                solve.progress = 0.0
                session.add(solve)
        except Exception as exc:
            log.warning("could not hand the solve back", solve_id=claimed.solve_id, error=str(exc))
        await msg.nak()
        return Outcome.HANDED_BACK
