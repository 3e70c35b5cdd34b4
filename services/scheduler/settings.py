"""Settings of the scheduler service and its solve workers (environment prefix ``JALON_``).

The API process and ``python -m services.scheduler.worker`` read the same settings; the worker's
own knobs are the ``scheduler_*`` fields (``JALON_SCHEDULER_JOB_ACK_WAIT_S`` and so on).
"""

from __future__ import annotations

from shared.messaging.streams import JOBS_PREFIX, JOBS_STREAM
from shared.settings import ServiceSettings

#: The work-queue subject explicit solves are enqueued on (also the job message's CloudEvent type).
SOLVE_JOB_SUBJECT = f"{JOBS_PREFIX}.scheduler.solve"


class SchedulerSettings(ServiceSettings):
    service_name: str = "scheduler"

    #: Where solve jobs go: the JetStream work-queue stream and the subject within it.
    scheduler_jobs_stream: str = JOBS_STREAM
    scheduler_job_subject: str = SOLVE_JOB_SUBJECT
    #: The durable pull consumer every worker shares (one per subject: the stream is a work queue).
    scheduler_worker_durable: str = "scheduler-workers"
    #: A job not acknowledged (nor reported in progress) for this long is delivered again.
    scheduler_job_ack_wait_s: float = 30.0
    #: Deliveries of one job before it is marked failed (a worker that keeps dying on it).
    scheduler_job_max_deliver: int = 5
    #: ``msg.in_progress()`` period; capped at a third of ``ack_wait`` by the worker.
    scheduler_heartbeat_interval_s: float = 10.0
    #: How often a running solve writes its progress and reads its cancel flag.
    scheduler_progress_interval_s: float = 0.5
    #: CP-SAT workers when a solve does not say (``num_workers``).
    scheduler_default_num_workers: int = 2
    #: On SIGTERM, how long the current job may run on before it is stopped and handed back.
    scheduler_shutdown_grace_s: float = 10.0
    #: Upper bound accepted for ``time_limit_s``.
    scheduler_max_time_limit_s: float = 3600.0
