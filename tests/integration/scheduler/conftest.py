"""The scheduler service in-process (httpx.ASGITransport) on a fresh database, with solve workers
run in-process or as real processes; each test has its own job subject and durable consumer, so
tests never take each other's jobs from the shared ``JALON_JOBS`` work queue."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import text

from bench.scheduler.instances import BENCHMARKS as SHARED_BENCHMARKS
from services.scheduler.app import create_app
from services.scheduler.settings import SOLVE_JOB_SUBJECT, SchedulerSettings
from services.scheduler.worker import SolveWorker
from shared.messaging.relay import OutboxRelay
from shared.web.app import ServiceRuntime
from tests.harness import Infra

REPO = Path(__file__).resolve().parents[3]
BENCHMARKS = SHARED_BENCHMARKS / "jssp" / "instances"


def jssp_body(name: str, *, time_limit_s: float = 2.0, **extra: Any) -> dict[str, Any]:
    """A benchmark job shop (``<jobs> <machines>`` then per job ``machine duration`` pairs) as the
    body of ``POST /v1/scheduler/solves``."""
    lines = [
        line
        for line in (BENCHMARKS / f"{name}.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    n, m = (int(x) for x in lines[0].split())
    jobs = []
    for j, line in enumerate(lines[1 : n + 1]):
        v = [int(x) for x in line.split()]
        ops = [
            {"id": f"O{k}", "options": [{"machine": f"M{v[2 * k]}", "duration": v[2 * k + 1]}]}
            for k in range(m)
        ]
        jobs.append({"id": f"J{j}", "operations": ops})
    return {"jobs": jobs, "objective": "makespan", "time_limit_s": time_limit_s, "num_workers": 1, **extra}


async def eventually(check: Callable[[], Any], within_s: float = 30.0, every_s: float = 0.1) -> Any:
    """Poll ``check()`` (plain or awaitable) until it returns something truthy; return it."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within_s} s")
        await asyncio.sleep(every_s)


@dataclass
class Scheduler:
    infra: Infra
    settings: SchedulerSettings
    database: str
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def submit(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> str:
        r = await self.client.post("/v1/scheduler/solves", json=body, headers=headers or {})
        assert r.status_code == 202, r.text
        return str(r.json()["id"])

    async def solve(self, solve_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/v1/scheduler/solves/{solve_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def wait_for(self, solve_id: str, *statuses: str, within_s: float = 60.0) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            s = await self.solve(solve_id)
            return s if s["status"] in statuses else None

        return dict(await eventually(reached, within_s, 0.1))

    async def assignments(self, solve_id: str, page_size: int = 1000) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"page_size": page_size}
            if token:
                params["page_token"] = token
            r = await self.client.get(f"/v1/scheduler/solves/{solve_id}/assignments", params=params)
            assert r.status_code == 200, r.text
            items += r.json()["items"]
            token = r.json()["next_page_token"]
            if not token:
                return items

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.runtime.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()

    @contextlib.asynccontextmanager
    async def worker(self, worker_id: str = "w-inproc", **overrides: Any) -> AsyncIterator[SolveWorker]:
        """A solve worker running in this event loop for the block."""
        settings = self.settings.model_copy(update=overrides)
        worker = SolveWorker(settings, worker_id=worker_id)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            yield worker
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)

    def worker_env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "JALON_DATABASE_URL": self.infra.server_url,
                "JALON_DATABASE_NAME": self.database,
                "JALON_NATS_URL": self.infra.nats_url,
                "JALON_LOG_JSON": "false",
                "JALON_OUTBOX_POLL_INTERVAL_S": "0.2",
                "JALON_SCHEDULER_JOB_SUBJECT": self.settings.scheduler_job_subject,
                "JALON_SCHEDULER_WORKER_DURABLE": self.settings.scheduler_worker_durable,
                "JALON_SCHEDULER_PROGRESS_INTERVAL_S": "0.2",
                "JALON_SCHEDULER_DEFAULT_NUM_WORKERS": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra)
        return env

    def spawn_worker(self, worker_id: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
        """``python -m services.scheduler.worker`` as a real process."""
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "services.scheduler.worker", "--worker-id", worker_id],
                cwd=REPO,
                env=self.worker_env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(proc)
        return proc


async def _delete_consumer(infra: Infra, settings: SchedulerSettings) -> None:
    nc = await nats.connect(infra.nats_url)
    try:
        js = nc.jetstream()
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(settings.scheduler_jobs_stream, settings.scheduler_worker_durable)
        with contextlib.suppress(Exception):  # the test's own jobs left in the work queue
            await js.purge_stream(settings.scheduler_jobs_stream, subject=settings.scheduler_job_subject)
    finally:
        await nc.close()


def _reap(processes: list[subprocess.Popen[bytes]]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.fixture
async def scheduler(infra: Infra) -> AsyncIterator[Scheduler]:
    database, _url = infra.new_database("scheduler")
    tag = uuid.uuid4().hex[:10]
    settings = SchedulerSettings(
        database_url=infra.server_url,
        database_name=database,
        nats_url=infra.nats_url,
        run_workers=False,
        log_json=False,
        outbox_poll_interval_s=0.2,
        scheduler_job_subject=f"{SOLVE_JOB_SUBJECT}.t{tag}",
        scheduler_worker_durable=f"scheduler-workers-t{tag}",
        scheduler_progress_interval_s=0.2,
        scheduler_default_num_workers=1,
        scheduler_shutdown_grace_s=2.0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        runtime: ServiceRuntime = app.state.runtime
        assert runtime.nats is not None
        await asyncio.wait_for(runtime.nats.wait_connected(), 10)
        runtime.relay = OutboxRelay(runtime.sessionmaker, runtime.nats, poll_interval_s=0.2)
        runtime.relay.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc", timeout=30) as client:
            client.headers["X-Jalon-Client"] = "client-a"
            s = Scheduler(infra, settings, database, client, runtime)
            try:
                yield s
            finally:
                _reap(s.processes)
                await runtime.relay.stop()
                runtime.relay = None
    await _delete_consumer(infra, settings)
