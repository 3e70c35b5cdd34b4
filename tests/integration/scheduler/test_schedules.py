"""Plant schedules and the shop floor through the scheduler API, against real PostgreSQL and NATS,
solved by an in-process worker; a small hand-built plant seeded into the master-data replica.

The plant (times UTC; 2026-03-02 is a Monday): calendar ``day`` Mon–Fri 06:00–14:00; work centers
CUT (machines C1, C2, 60/h) and WELD (W1, 120/h). P: 10 CUT (setup 10, run 5), 20 WELD (run 3);
Q: 10 CUT (run 4), 20 WELD (setup 20, run 2). BOM of P: 2 STEEL at standard cost 2.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from services.scheduler.domain.plant import PlantAssignment, validate_plant
from services.scheduler.schedules import build_problem
from tests.integration.scheduler.conftest import Scheduler

pytestmark = pytest.mark.asyncio(loop_scope="session")

AS_OF = "2026-03-02T06:00:00+00:00"
DAY = {d: [["06:00", "14:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
RECORDS: list[tuple[str, str, dict[str, Any]]] = [
    ("calendar", "day", {"code": "day", "weekdays": DAY, "holidays": [], "exceptions": []}),
    (
        "work_center",
        "CUT",
        {
            "code": "CUT",
            "machines": [{"code": "C1"}, {"code": "C2"}],
            "efficiency": 1,
            "calendar": "day",
            "hourly_cost": 60,
        },
    ),
    (
        "work_center",
        "WELD",
        {
            "code": "WELD",
            "machines": [{"code": "W1"}],
            "efficiency": 1,
            "calendar": "day",
            "hourly_cost": 120,
        },
    ),
    ("item", "P", {"sku": "P", "family": "red", "standard_cost": 100}),
    ("item", "Q", {"sku": "Q", "family": "blue", "standard_cost": 80}),
    ("item", "STEEL", {"sku": "STEEL", "family": None, "standard_cost": 2}),
    ("bom", "P", {"parent": "P", "lines": [{"component": "STEEL", "qty_per": 2, "scrap_pct": 0}]}),
    (
        "routing",
        "P",
        {
            "sku": "P",
            "operations": [
                {
                    "seq": 10,
                    "work_center": "CUT",
                    "setup_minutes": 10,
                    "run_minutes_per_unit": 5,
                    "alternates": [],
                },
                {
                    "seq": 20,
                    "work_center": "WELD",
                    "setup_minutes": 0,
                    "run_minutes_per_unit": 3,
                    "alternates": [],
                },
            ],
        },
    ),
    (
        "routing",
        "Q",
        {
            "sku": "Q",
            "operations": [
                {
                    "seq": 10,
                    "work_center": "CUT",
                    "setup_minutes": 0,
                    "run_minutes_per_unit": 4,
                    "alternates": [],
                },
                {
                    "seq": 20,
                    "work_center": "WELD",
                    "setup_minutes": 20,
                    "run_minutes_per_unit": 2,
                    "alternates": [],
                },
            ],
        },
    ),
]
ORDERS = [
    {"id": "MO1", "sku": "P", "quantity": 20, "release_date": "2026-03-02", "due_date": "2026-03-02"},
    {
        "id": "MO2",
        "sku": "Q",
        "quantity": 30,
        "release_date": "2026-03-02",
        "due_date": "2026-03-03",
        "priority": 3,
    },
    {"id": "MO3", "sku": "P", "quantity": 50, "release_date": "2026-03-02", "due_date": "2026-03-04"},
]


async def seed(s: Scheduler) -> None:
    async with s.runtime.engine.begin() as conn:
        from sqlalchemy import text

        for i, (kind, key, record) in enumerate(RECORDS, start=1):
            await conn.execute(
                text(
                    "INSERT INTO replica_records (source, kind, key, version, seq, record) "
                    "VALUES ('masterdata', :k, :key, 1, :seq, CAST(:r AS JSONB))"
                ),
                {"k": kind, "key": key, "seq": i, "r": json.dumps(record)},
            )
    r = await s.client.put(
        "/v1/scheduler/setup-matrices/WELD",
        json={
            "entries": [
                {"from_family": "red", "to_family": "blue", "minutes": 15},
                {"from_family": "blue", "to_family": "red", "minutes": 25},
            ]
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'


async def wait_schedule(s: Scheduler, schedule_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        r = await s.client.get(f"/v1/scheduler/schedules/{schedule_id}")
        assert r.status_code == 200, r.text
        return r.json() if r.json()["status"] in ("succeeded", "failed") else None

    from tests.integration.scheduler.conftest import eventually

    return dict(await eventually(done, 60))


async def assignments(s: Scheduler, schedule_id: str) -> list[dict[str, Any]]:
    r = await s.client.get(f"/v1/scheduler/schedules/{schedule_id}/assignments", params={"page_size": 1000})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def assert_valid(s: Scheduler, schedule: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """The independent real-time validator (calendar rule included) on the stored schedule."""
    snap = await s.scalar("SELECT snapshot FROM schedule_snapshots WHERE schedule_id = :i", i=schedule["id"])
    pp = build_problem(snap, schedule["problem"]["objective"], schedule["problem"]["horizon_days"])

    def minute(v: str) -> int:
        return pp.minute(datetime.fromisoformat(v))

    plant = [
        PlantAssignment(
            a["job"],
            a["operation"],
            a["machine"],
            a["work_center"],
            minute(a["start"]),
            minute(a["end"]),
            a["duration_minutes"],
            a["setup_minutes"],
            a["frozen"],
        )
        for a in items
    ]
    assert validate_plant(pp, plant) == []


async def create(s: Scheduler, **extra: Any) -> str:
    body = {
        "objective": "weighted_tardiness",
        "time_limit_s": 2,
        "as_of": AS_OF,
        "orders": ORDERS,
        "horizon_days": 14,
        **extra,
    }
    r = await s.client.post("/v1/scheduler/schedules", json=body)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/scheduler/schedules/{r.json()['id']}"
    return str(r.json()["id"])


async def confirm(s: Scheduler, key: str, **body: Any) -> Any:
    return await s.client.post("/v1/scheduler/confirmations", json=body, headers={"Idempotency-Key": key})


async def test_a_plant_schedule_is_solved_on_the_calendars_and_passes_the_calendar_validator(
    scheduler: Scheduler,
) -> None:
    await seed(scheduler)
    first = await create(scheduler)
    async with scheduler.worker("w-plant"):
        done = await wait_schedule(scheduler, first)
        assert done["status"] == "succeeded", done
        second = await create(scheduler, objective="makespan")
        again = await wait_schedule(scheduler, second)
    assert again["status"] == "succeeded", again
    assert again["version"] == done["version"] + 1
    assert done["problem"]["orders"] == 3
    assert done["problem"]["operations"] == 6
    assert done["gap"] is not None
    assert done["best_bound"] is not None
    assert set(done["tardiness"]) >= {"late_orders", "total_weighted_minutes", "max_minutes"}
    items = await assignments(scheduler, first)
    assert len(items) == 6
    await assert_valid(scheduler, done, items)
    await assert_valid(scheduler, again, await assignments(scheduler, second))
    # Every operation lies in working time: MO3's 260-minute cut cannot end on the same day as MO1's.
    for a in items:
        start, end = datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["end"])
        assert start.hour >= 6
        assert (end.hour, end.minute) <= (14, 0)

    r = await scheduler.client.get("/v1/scheduler/work-centers/WELD/dispatch-list")
    assert r.status_code == 200, r.text
    dispatch = r.json()
    assert dispatch["version"] == again["version"]
    starts = [i["planned_start"] for i in dispatch["items"]]
    assert starts == sorted(starts)
    assert len(starts) == 3
    assert {i["machine"] for i in dispatch["items"]} == {"W1"}

    r = await scheduler.client.get(f"/v1/scheduler/schedules/{first}/diff/{second}")
    assert r.status_code == 200, r.text
    diff = r.json()
    assert len(diff["moved"]) + diff["unchanged"] == 6
    assert diff["added"] == diff["removed"] == []

    svg = await scheduler.client.get(f"/v1/scheduler/schedules/{first}/gantt.svg")
    assert svg.status_code == 200
    assert svg.text.startswith("<svg")
    png = await scheduler.client.get(f"/v1/scheduler/schedules/{first}/gantt.png")
    assert png.status_code == 200
    assert png.content[:4] == b"\x89PNG"
    chart = (await scheduler.client.get(f"/v1/scheduler/schedules/{first}/gantt.json")).json()
    assert set(chart["lanes"]) == {"C1", "C2", "W1"}
    assert len(chart["bars"]) == 6

    completed = await scheduler.scalar(
        "SELECT count(*) FROM outbox WHERE subject = 'jalon.scheduler.schedule.completed'"
    )
    assert completed == 2


async def test_unknown_skus_in_inline_orders_are_a_422_naming_the_order(scheduler: Scheduler) -> None:
    await seed(scheduler)
    body = {"time_limit_s": 1, "as_of": AS_OF, "orders": [*ORDERS, {**ORDERS[0], "id": "MO9", "sku": "NOPE"}]}
    r = await scheduler.client.post("/v1/scheduler/schedules", json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["orders[3].sku"]
    assert await scheduler.scalar("SELECT count(*) FROM schedules") == 0


async def test_confirmations_follow_the_state_machine_and_replay_by_idempotency_key(
    scheduler: Scheduler,
) -> None:
    base = {"order": "MO1", "operation": "10", "machine": "C1", "good_qty": 0, "scrap_qty": 0}
    r = await scheduler.client.post("/v1/scheduler/confirmations", json={**base, "event": "start"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "header.Idempotency-Key"
    r = await confirm(scheduler, "k0", **base, event="finish", at="2026-03-02T07:00:00Z")
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "event"
    r = await confirm(scheduler, "k1", **base, event="start", at="2026-03-02T06:00:00Z")
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "started"
    replay = await confirm(scheduler, "k1", **base, event="start", at="2026-03-02T06:00:00Z")
    assert replay.status_code == 201
    assert replay.json() == r.json()
    assert replay.headers["idempotent-replayed"] == "true"
    other = await confirm(scheduler, "k1", **base, event="pause", at="2026-03-02T06:30:00Z")
    assert other.status_code == 422
    r = await confirm(scheduler, "k2", **{**base, "machine": "C2"}, event="pause", at="2026-03-02T06:30:00Z")
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "machine"
    r = await confirm(scheduler, "k3", **base, event="pause", at="2026-03-02T05:00:00Z")
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "at"
    r = await confirm(scheduler, "k4", **{**base, "good_qty": 20}, event="finish", at="2026-03-02T07:50:00Z")
    assert r.status_code == 201
    assert r.json()["state"] == "finished"
    assert await scheduler.scalar("SELECT count(*) FROM confirmations") == 2
    assert (
        await scheduler.scalar(
            "SELECT count(*) FROM outbox WHERE subject = 'jalon.scheduler.operation.completed'"
        )
        == 1
    )


async def test_a_downtime_reschedules_with_started_operations_frozen(scheduler: Scheduler) -> None:
    await seed(scheduler)
    first = await create(scheduler)
    async with scheduler.worker("w-down"):
        v1 = await wait_schedule(scheduler, first)
        assert v1["status"] == "succeeded", v1
        items = await assignments(scheduler, first)
        running = min(items, key=lambda a: a["start"])
        started_at = "2026-03-02T06:05:00+00:00"
        r = await confirm(
            scheduler,
            "s1",
            order=running["job"],
            operation=running["operation"],
            machine=running["machine"],
            event="start",
            at=started_at,
        )
        assert r.status_code == 201, r.text
        r = await scheduler.client.post(
            "/v1/scheduler/downtimes",
            json={
                "machine": "W1",
                "start": "2026-03-02T08:00:00Z",
                "end": "2026-03-02T12:00:00Z",
                "reason": "hydraulics",
            },
        )
        assert r.status_code == 201, r.text
        second = r.json()["schedule"]
        assert second is not None
        v2 = await wait_schedule(scheduler, second)
    assert v2["status"] == "succeeded", v2
    assert v2["trigger"] == "downtime"
    assert v2["version"] == v1["version"] + 1
    items2 = await assignments(scheduler, second)
    await assert_valid(scheduler, v2, items2)
    kept = next(a for a in items2 if (a["job"], a["operation"]) == (running["job"], running["operation"]))
    assert kept["frozen"]
    assert kept["machine"] == running["machine"]
    assert datetime.fromisoformat(kept["start"]) == datetime.fromisoformat(started_at)
    for a in items2:
        if a["machine"] == "W1" and not a["frozen"]:
            s, e = datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["end"])
            down_s, down_e = (
                datetime.fromisoformat("2026-03-02T08:00:00+00:00"),
                datetime.fromisoformat("2026-03-02T12:00:00+00:00"),
            )
            assert e <= down_s or s >= down_e, a
    pareto = (await scheduler.client.get("/v1/scheduler/pareto/downtime")).json()
    assert pareto["items"] == [
        {"cause": "hydraulics", "amount": 240.0, "share": 1.0, "cumulative_share": 1.0}
    ]


async def test_closing_an_order_costs_it_against_standard_and_emits_order_completed(
    scheduler: Scheduler,
) -> None:
    await seed(scheduler)
    first = await create(scheduler)
    async with scheduler.worker("w-close"):
        assert (await wait_schedule(scheduler, first))["status"] == "succeeded"
    r = await scheduler.client.post("/v1/scheduler/orders/MO1/close")
    assert r.status_code == 409, r.text
    steps = [
        ("10", "C1", "start", "06:00", 0, 0, None),
        ("10", "C1", "finish", "07:50", 20, 0, None),  # 110 min at 60/h = 110
        ("20", "W1", "start", "08:00", 0, 0, None),
        ("20", "W1", "pause", "09:00", 0, 0, None),
        ("20", "W1", "resume", "09:30", 0, 0, None),
        ("20", "W1", "finish", "10:00", 19, 1, "burr"),  # 90 min at 120/h = 180
    ]
    for i, (op, machine, event, hhmm, good, scrap, reason) in enumerate(steps):
        r = await confirm(
            scheduler, f"c{i}", order="MO1", operation=op, machine=machine, event=event,
            good_qty=good, scrap_qty=scrap, reason=reason, at=f"2026-03-02T{hhmm}:00Z",
        )  # fmt: skip
        assert r.status_code == 201, r.text
    progress = (await scheduler.client.get("/v1/scheduler/orders/MO1/progress")).json()
    assert [(o["operation"], o["state"], o["worked_minutes"]) for o in progress["operations"]] == [
        ("10", "finished", 110.0),
        ("20", "finished", 90.0),
    ]
    assert progress["operations"][1]["planned_start"] is not None
    r = await scheduler.client.post("/v1/scheduler/orders/MO1/close")
    assert r.status_code == 200, r.text
    closed = r.json()
    # Actual: 110 + 180 labour, 2 × (19 + 1) × 2 = 80 material. Standard: (10 + 20·5)·1 + 20·3·2 =
    # 230 labour, 2 × 20 × 2 = 80 material.
    assert (closed["actual"]["labour"], closed["actual"]["material"], closed["actual"]["total"]) == (
        290.0,
        80.0,
        370.0,
    )
    assert (closed["standard"]["labour"], closed["standard"]["material"], closed["standard"]["total"]) == (
        230.0,
        80.0,
        310.0,
    )
    assert closed["variance"]["total"] == 60.0
    assert (closed["good_qty"], closed["scrap_qty"]) == (19.0, 1.0)
    payload = await scheduler.scalar(
        "SELECT payload FROM outbox WHERE subject = 'jalon.scheduler.order.completed'"
    )
    assert json.loads(payload)["data"] == {
        "order": "MO1",
        "sku": "P",
        "good_qty": 19.0,
        "location": None,
        "components_consumed": None,
    }
    assert (await scheduler.client.post("/v1/scheduler/orders/MO1/close")).status_code == 409
    scrap = (await scheduler.client.get("/v1/scheduler/pareto/scrap")).json()
    assert scrap["items"] == [{"cause": "burr", "amount": 1.0, "share": 1.0, "cumulative_share": 1.0}]
    pva = (
        await scheduler.client.get("/v1/scheduler/plan-vs-actual", params={"tolerance_minutes": 100000})
    ).json()
    assert pva["operations"] == 6
    assert pva["finished"] == 2
    assert pva["finished_on_time"] == 2
