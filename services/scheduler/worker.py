"""The solve worker: ``python -m services.scheduler.worker [--concurrency N] [--worker-id ID]``.

A standalone asyncio process with the scheduler's settings (environment prefix ``JALON_``). It
pulls solve jobs from the durable consumer ``scheduler-workers`` on the ``JALON_JOBS`` work queue
(filter ``jalon.jobs.scheduler.solve``, explicit ack, ``ack_wait`` 30 s), runs each with
:class:`services.scheduler.jobs.SolveJobRunner` and relays the events it writes (its own outbox
relay, on the scheduler's database). Every worker process shares the consumer, so jobs spread over
them; ``--concurrency`` slots each hold one job at a time.

SIGTERM or SIGINT: stop fetching; a job in hand finishes within ``shutdown_grace_s`` or is stopped,
set back to queued and negatively acknowledged so another worker picks it up at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Sequence

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.scheduler.jobs import Outcome, SolveJobRunner
from services.scheduler.settings import SchedulerSettings
from shared.db.engine import create_engine_for, make_sessionmaker
from shared.logging import configure_logging, get_logger
from shared.messaging.connection import NatsConnection
from shared.messaging.relay import OutboxRelay

log = get_logger(__name__)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class SolveWorker:
    def __init__(self, settings: SchedulerSettings, *, concurrency: int = 1, worker_id: str | None = None):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings = settings
        self.concurrency = concurrency
        self.worker_id = worker_id or default_worker_id()
        self.runner: SolveJobRunner | None = None
        self._stopping = asyncio.Event()

    def consumer_config(self) -> ConsumerConfig:
        s = self.settings
        return ConsumerConfig(
            durable_name=s.scheduler_worker_durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subject=s.scheduler_job_subject,
            ack_wait=s.scheduler_job_ack_wait_s,
            max_deliver=-1,  # bounded by the runner, which marks the solve failed past the limit
        )

    async def ensure_consumer(self, js: JetStreamContext) -> None:
        """Create the shared durable consumer, or bring its ``ack_wait`` to this worker's setting."""
        s = self.settings
        config = self.consumer_config()
        try:
            info = await js.consumer_info(s.scheduler_jobs_stream, s.scheduler_worker_durable)
        except NotFoundError:
            await js.add_consumer(s.scheduler_jobs_stream, config)
            return
        current = info.config.ack_wait or 0.0
        if abs(current - s.scheduler_job_ack_wait_s) > 1e-3:
            await js.add_consumer(s.scheduler_jobs_stream, config)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve jobs until ``stop`` is set; then finish (or hand back) the jobs in hand and return."""
        s = self.settings
        engine = create_engine_for(
            s.async_database_url, pool_size=max(2, self.concurrency + 1), max_overflow=4
        )
        sessionmaker = make_sessionmaker(engine)
        nats = NatsConnection(s.nats_url, name=f"jalon-scheduler-worker-{self.worker_id}")
        nats.start()
        relay = OutboxRelay(sessionmaker, nats, poll_interval_s=s.outbox_poll_interval_s)
        relay.start()
        self.runner = SolveJobRunner(s, sessionmaker, self.worker_id, on_commit=relay.wake)
        slots = [
            asyncio.create_task(self._slot(nats, i), name=f"solve-slot-{i}") for i in range(self.concurrency)
        ]
        log.info("solve worker started", worker_id=self.worker_id, concurrency=self.concurrency)
        try:
            await stop.wait()
        finally:
            log.info("solve worker stopping", worker_id=self.worker_id)
            self._stopping.set()
            # A slot ends after its job (bounded by the grace period); one waiting for a database
            # or NATS that is away is simply cancelled.
            _done, pending = await asyncio.wait(slots, timeout=s.scheduler_shutdown_grace_s + 15.0)
            for task in pending:
                task.cancel()
            for task in slots:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await asyncio.wait_for(relay.publish_pending(), 5.0)
            await relay.stop()
            await nats.close()
            await engine.dispose()
            log.info("solve worker stopped", worker_id=self.worker_id)

    async def _slot(self, nats: NatsConnection, index: int) -> None:
        s = self.settings
        assert self.runner is not None
        sub: JetStreamContext.PullSubscription | None = None
        while not self._stopping.is_set():
            try:
                if sub is None:
                    await nats.wait_connected()
                    js = nats.jetstream()
                    await self.ensure_consumer(js)
                    sub = await js.pull_subscribe_bind(
                        durable=s.scheduler_worker_durable, stream=s.scheduler_jobs_stream
                    )
                try:
                    msgs = await sub.fetch(1, timeout=1.0)
                except (NatsTimeoutError, TimeoutError):
                    continue
                for msg in msgs:
                    if self._stopping.is_set():
                        await msg.nak()
                        continue
                    outcome = await self.runner.handle(msg, self._stopping)
                    if outcome is Outcome.RETRY:
                        await asyncio.sleep(1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS or the stream away: subscribe again after a pause
                log.warning("solve worker loop error", slot=index, error=f"{type(exc).__name__}: {exc}")
                sub = None
                await asyncio.sleep(1.0)
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


async def run_worker(
    settings: SchedulerSettings,
    stop: asyncio.Event,
    *,
    concurrency: int = 1,
    worker_id: str | None = None,
) -> SolveWorker:
    """Run a solve worker in this event loop until ``stop`` is set (tests run it in-process)."""
    worker = SolveWorker(settings, concurrency=concurrency, worker_id=worker_id)
    await worker.run(stop)
    return worker


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m services.scheduler.worker", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--concurrency", type=int, default=1, help="jobs solved at once (default 1)")
    parser.add_argument("--worker-id", default=None, help="default: <hostname>-<pid>")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> None:
    settings = SchedulerSettings()
    configure_logging("scheduler-worker", settings.log_level, json=settings.log_json)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run_worker(settings, stop, concurrency=args.concurrency, worker_id=args.worker_id)


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_main(parse_args(argv)))


if __name__ == "__main__":
    main()
