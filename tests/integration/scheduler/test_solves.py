"""Explicit solves through the scheduler API, solved by a worker running in-process, against the
real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import nats
import pytest

from services.scheduler.api.schemas import SolveCreate
from services.scheduler.domain.model import Assignment
from services.scheduler.domain.validator import validate
from services.scheduler.jobs import Outcome, SolveJobRunner
from shared.events import CloudEvent
from tests.integration.scheduler.conftest import Scheduler, eventually, jssp_body

pytestmark = pytest.mark.asyncio(loop_scope="session")


def schedule_is_valid(body: dict[str, Any], items: list[dict[str, Any]]) -> bool:
    problem = SolveCreate.model_validate(body).to_problem()
    violations = validate(problem, [Assignment(**a) for a in items])
    assert violations == [], violations
    return True


async def test_ft06_is_solved_by_a_worker_to_its_optimum_of_55(scheduler: Scheduler) -> None:
    body = jssp_body("ft06", time_limit_s=2.0)
    r = await scheduler.client.post("/v1/scheduler/solves", json=body)
    assert r.status_code == 202, r.text
    solve_id = r.json()["id"]
    assert r.json() == {"id": solve_id, "status": "queued"}
    assert r.headers["location"] == f"/v1/scheduler/solves/{solve_id}"

    queued = await scheduler.solve(solve_id)
    assert queued["status"] == "queued"
    assert queued["progress"] == 0
    assert queued["problem"] == {
        "jobs": 6,
        "operations": 36,
        "machines": 6,
        "objective": ["makespan"],
        "time_limit_s": 2.0,
        "num_workers": 1,
    }
    async with scheduler.worker("w-one"):
        done = await scheduler.wait_for(solve_id, "succeeded", "failed")
    assert done["status"] == "succeeded", done
    assert done["objective"] == 55
    assert done["best_bound"] == 55
    assert done["gap"] == 0
    assert done["solver_status"] == "optimal"
    assert done["objective_values"] == {"makespan": 55}
    assert done["progress"] == 1
    assert done["worker"] == "w-one"
    assert done["attempts"] == 1
    t = done["timings"]
    assert t["queued_at"] <= t["started_at"] <= t["finished_at"]
    assert t["wall_s"] is not None
    assert t["wall_s"] < 10
    assert done["last_heartbeat_at"] is not None
    assert "level0_status" in done["statistics"]
    assert done["links"]["assignments"] == f"/v1/scheduler/solves/{solve_id}/assignments"

    items = await scheduler.assignments(solve_id, page_size=7)
    assert len(items) == 36
    assert [(a["machine"], a["start"]) for a in items] == sorted((a["machine"], a["start"]) for a in items)
    assert max(a["end"] for a in items) == 55
    assert schedule_is_valid(body, items)
    # The completed event went out through the worker's outbox.
    assert await scheduler.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    assert (
        await scheduler.scalar(
            "SELECT count(*) FROM outbox WHERE subject = 'jalon.scheduler.solve.completed'"
        )
        == 1
    )


async def test_the_job_message_goes_to_the_work_queue_through_the_outbox(scheduler: Scheduler) -> None:
    solve_id = await scheduler.submit(jssp_body("ft06"))
    subject = scheduler.settings.scheduler_job_subject
    row = await scheduler.scalar("SELECT payload FROM outbox WHERE subject = :s", s=subject)
    event = CloudEvent.from_bytes(row.encode())
    assert event.type == subject == event.nats_subject
    assert event.data == {"solve_id": solve_id}
    await eventually(
        lambda: scheduler.scalar("SELECT published_at IS NOT NULL FROM outbox WHERE subject = :s", s=subject)
    )
    nc = await nats.connect(scheduler.infra.nats_url)
    try:
        info = await nc.jetstream().stream_info("JALON_JOBS", subjects_filter=subject)
        assert info.state.subjects == {subject: 1}
    finally:
        await nc.close()


async def test_a_bad_problem_is_a_422_naming_each_bad_field_and_stores_nothing(scheduler: Scheduler) -> None:
    body = jssp_body("ft06")
    body["jobs"][2]["operations"][0]["options"].append({"machine": "M1", "duration": 0})
    body["jobs"][1]["id"] = "J0"
    body["jobs"][3]["operations"][1]["id"] = "O0"
    body["unavailability"] = [{"machine": "M1", "start": 10, "end": 5}]
    body["time_limit_s"] = -1
    body["colour"] = "blue"
    r = await scheduler.client.post("/v1/scheduler/solves", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"jobs[2].operations[0].options[1].duration", "time_limit_s", "colour"}

    del body["colour"]
    body["time_limit_s"] = 1
    body["jobs"][2]["operations"][0]["options"].pop()
    body["objective"] = ["weighted_tardiness", "makespan"]
    r = await scheduler.client.post("/v1/scheduler/solves", json=body)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {
        "jobs[1].id",
        "jobs[3].operations[1].id",
        "unavailability[0].end",
        *(f"jobs[{i}].due" for i in range(6)),
    }
    r = await scheduler.client.post("/v1/scheduler/solves", json={**body, "objective": "fastest"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"objective[0]"}
    assert await scheduler.scalar("SELECT count(*) FROM solves") == 0
    assert await scheduler.scalar("SELECT count(*) FROM outbox") == 0


async def test_a_replay_with_the_same_idempotency_key_enqueues_one_solve(scheduler: Scheduler) -> None:
    body = jssp_body("ft06")
    first = await scheduler.client.post("/v1/scheduler/solves", json=body, headers={"Idempotency-Key": "s-1"})
    again = await scheduler.client.post("/v1/scheduler/solves", json=body, headers={"Idempotency-Key": "s-1"})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await scheduler.client.post(
        "/v1/scheduler/solves", json={**body, "time_limit_s": 3}, headers={"Idempotency-Key": "s-1"}
    )
    assert other.status_code == 422
    assert await scheduler.scalar("SELECT count(*) FROM solves") == 1
    assert await scheduler.scalar("SELECT count(*) FROM outbox") == 1


async def test_a_queued_solve_is_cancelled_at_once_and_never_solved(scheduler: Scheduler) -> None:
    solve_id = await scheduler.submit(jssp_body("ft06"))
    r = await scheduler.client.post(f"/v1/scheduler/solves/{solve_id}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["timings"]["finished_at"] is not None
    again = await scheduler.client.post(f"/v1/scheduler/solves/{solve_id}/cancel")
    assert again.status_code == 200
    async with scheduler.worker() as worker:
        await eventually(lambda: worker.runner is not None and worker.runner.outcomes[Outcome.SKIPPED] == 1)
    s = await scheduler.solve(solve_id)
    assert s["status"] == "cancelled"
    assert s["attempts"] == 0
    assert s["worker"] is None
    assert await scheduler.assignments(solve_id) == []


async def test_a_running_solve_is_cancelled_within_a_second_keeping_its_best_schedule(
    scheduler: Scheduler,
) -> None:
    body = jssp_body("ta21", time_limit_s=20.0)
    solve_id = await scheduler.submit(body)
    async with scheduler.worker():
        running = await scheduler.wait_for(solve_id, "running")
        assert running["attempts"] == 1
        await eventually(lambda: _has_objective(scheduler, solve_id))
        r = await scheduler.client.post(f"/v1/scheduler/solves/{solve_id}/cancel")
        assert r.status_code == 200
        assert r.json()["cancel_requested"] is True
        asked = asyncio.get_running_loop().time()
        done = await scheduler.wait_for(solve_id, "cancelled", "succeeded", "failed", within_s=10)
        took = asyncio.get_running_loop().time() - asked
    assert done["status"] == "cancelled", done
    assert took < 2.0, took
    assert done["solver_status"] == "feasible"
    assert done["statistics"]["stopped"] is True
    assert done["timings"]["wall_s"] < 15
    items = await scheduler.assignments(solve_id)
    assert len(items) == 400
    assert max(a["end"] for a in items) == done["objective"]
    assert schedule_is_valid(body, items)
    finished = await scheduler.client.post(f"/v1/scheduler/solves/{solve_id}/cancel")
    assert finished.status_code == 200


async def _has_objective(scheduler: Scheduler, solve_id: str) -> bool:
    s = await scheduler.solve(solve_id)
    return s["objective"] is not None and s["progress"] > 0


async def test_a_finished_solve_delivered_again_is_acknowledged_without_solving(scheduler: Scheduler) -> None:
    solve_id = await scheduler.submit(jssp_body("ft06"))
    async with scheduler.worker() as worker:
        await scheduler.wait_for(solve_id, "succeeded")
        # As if a worker had crashed between its commit and its ack: the job comes back.
        nc = await nats.connect(scheduler.infra.nats_url)
        try:
            job = CloudEvent(
                source="/jalon/scheduler",
                type=scheduler.settings.scheduler_job_subject,
                data={"solve_id": solve_id},
            )
            await nc.jetstream().publish(job.type, job.to_bytes())
        finally:
            await nc.close()
        await eventually(lambda: worker.runner is not None and worker.runner.outcomes[Outcome.SKIPPED] == 1)
        assert worker.runner is not None
        assert worker.runner.outcomes[Outcome.SOLVED] == 1
    s = await scheduler.solve(solve_id)
    assert (s["status"], s["attempts"]) == ("succeeded", 1)
    r = await scheduler.client.post(f"/v1/scheduler/solves/{solve_id}/cancel")
    assert r.status_code == 409


class FakeMsg:
    """Enough of a JetStream message for the runner: data, delivery count, acks recorded."""

    def __init__(self, data: bytes, delivered: int) -> None:
        self.data = data
        self.subject = "jalon.jobs.scheduler.solve"
        self.metadata = SimpleNamespace(num_delivered=delivered)
        self.acks: list[str] = []

    async def ack(self) -> None:
        self.acks.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.acks.append("nak")

    async def term(self) -> None:
        self.acks.append("term")

    async def in_progress(self) -> None:
        self.acks.append("wip")


async def test_a_job_delivered_more_than_max_deliver_times_is_marked_failed(scheduler: Scheduler) -> None:
    solve_id = await scheduler.submit(jssp_body("ft06"))
    runner = SolveJobRunner(scheduler.settings, scheduler.runtime.sessionmaker, "w-fake")
    job = CloudEvent(
        source="/jalon/scheduler", type="jalon.jobs.scheduler.solve", data={"solve_id": solve_id}
    )
    msg = FakeMsg(job.to_bytes(), delivered=scheduler.settings.scheduler_job_max_deliver + 1)
    assert await runner.handle(msg) is Outcome.GAVE_UP  # type: ignore[arg-type]
    assert msg.acks == ["ack"]
    s = await scheduler.solve(solve_id)
    assert s["status"] == "failed"
    assert "gave up after 5 deliveries" in s["error"]
    garbage = FakeMsg(b"not json", delivered=1)
    assert await runner.handle(garbage) is Outcome.POISON  # type: ignore[arg-type]
    assert garbage.acks == ["term"]


async def test_solves_are_listed_newest_first_in_pages_and_filtered_by_status(scheduler: Scheduler) -> None:
    ids = [await scheduler.submit(jssp_body("ft06")) for _ in range(3)]
    await scheduler.client.post(f"/v1/scheduler/solves/{ids[1]}/cancel")
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"page_size": 2}
        if token:
            params["page_token"] = token
        page = (await scheduler.client.get("/v1/scheduler/solves", params=params)).json()
        seen += [s["id"] for s in page["items"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == ids[::-1]
    cancelled = (await scheduler.client.get("/v1/scheduler/solves", params={"status": "cancelled"})).json()
    assert [s["id"] for s in cancelled["items"]] == [ids[1]]
    bad = await scheduler.client.get("/v1/scheduler/solves", params={"status": "lost"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.status"
    junk = await scheduler.client.get("/v1/scheduler/solves", params={"page_token": "bm9wZQ"})
    assert junk.status_code == 422
    assert (await scheduler.client.get("/v1/scheduler/solves/nope")).status_code == 404
    early = await scheduler.client.get(f"/v1/scheduler/solves/{ids[0]}/assignments")
    assert early.status_code == 409
