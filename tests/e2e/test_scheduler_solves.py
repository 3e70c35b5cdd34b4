"""Explicit solves through the gateway, solved by a ``services.scheduler.worker`` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.runtime.stack import Stack

REPO = Path(__file__).resolve().parents[2]

# Fisher & Thompson 6x6 (ft06): per job, (machine, minutes) in route order. Optimum 55.
FT06 = [
    [(2, 1), (0, 3), (1, 6), (3, 7), (5, 3), (4, 6)],
    [(1, 8), (2, 5), (4, 10), (5, 10), (0, 10), (3, 4)],
    [(2, 5), (3, 4), (5, 8), (0, 9), (1, 1), (4, 7)],
    [(1, 5), (0, 5), (2, 5), (3, 3), (4, 8), (5, 9)],
    [(2, 9), (1, 3), (4, 5), (5, 4), (0, 3), (3, 1)],
    [(1, 3), (3, 3), (5, 9), (0, 10), (4, 4), (2, 1)],
]


def ft06(time_limit_s: float = 2.0) -> dict[str, Any]:
    return {
        "jobs": [
            {
                "id": f"J{j}",
                "operations": [
                    {"id": f"O{k}", "options": [{"machine": f"M{m}", "duration": d}]}
                    for k, (m, d) in enumerate(route)
                ],
            }
            for j, route in enumerate(FT06)
        ],
        "objective": "makespan",
        "time_limit_s": time_limit_s,
        "num_workers": 1,
    }


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=20
    ) as client:
        yield client


@pytest.fixture(scope="module")
def worker(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    """One solve worker against the stack's servers (the launcher does not start workers yet)."""
    env = dict(os.environ)
    env.update(
        {
            "JALON_DATABASE_URL": stack.database_server_url,
            "JALON_DATABASE_NAME": "jalon_scheduler",
            "JALON_NATS_URL": stack.nats_url,
            "JALON_LOG_JSON": "false",
            "JALON_SCHEDULER_DEFAULT_NUM_WORKERS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    log = tmp_path_factory.mktemp("scheduler-worker") / "worker.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.scheduler.worker", "--worker-id", "e2e-worker"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def wait_for(admin: httpx.Client, url: str, *statuses: str, within_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        r = admin.get(url)
        assert r.status_code == 200, r.text
        if r.json()["status"] in statuses:
            return dict(r.json())
        assert time.monotonic() < deadline, f"still {r.json()['status']} after {within_s} s"
        time.sleep(0.2)


def test_a_solve_submitted_through_the_gateway_is_solved_by_a_worker(
    admin: httpx.Client, worker: subprocess.Popen[bytes]
) -> None:
    r = admin.post("/v1/scheduler/solves", json=ft06(), headers={"Idempotency-Key": f"e2e-{time.time_ns()}"})
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    assert location == f"/v1/scheduler/solves/{r.json()['id']}"
    assert r.json()["status"] == "queued"

    done = wait_for(admin, location, "succeeded", "failed", "cancelled")
    assert done["status"] == "succeeded", done
    assert (done["objective"], done["solver_status"], done["attempts"]) == (55, "optimal", 1)
    assert done["worker"] is not None
    assert worker.poll() is None

    first = admin.get(f"{location}/assignments", params={"page_size": 20}).json()
    assert len(first["items"]) == 20
    rest = admin.get(
        f"{location}/assignments", params={"page_size": 100, "page_token": first["next_page_token"]}
    ).json()
    items = first["items"] + rest["items"]
    assert rest["next_page_token"] is None
    assert len(items) == 36
    assert max(a["end"] for a in items) == 55
    assert [(a["machine"], a["start"]) for a in items] == sorted((a["machine"], a["start"]) for a in items)
    listed = admin.get("/v1/scheduler/solves", params={"status": "succeeded"}).json()
    assert done["id"] in {s["id"] for s in listed["items"]}


def test_a_bad_problem_is_a_422_through_the_gateway(admin: httpx.Client) -> None:
    body = ft06()
    body["jobs"][0]["operations"][0]["options"][0]["duration"] = -3
    r = admin.post("/v1/scheduler/solves", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["jobs[0].operations[0].options[0].duration"]
