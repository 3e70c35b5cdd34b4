"""The whole stack on one machine: PostgreSQL, nats-server, migrations, streams, the six services.

``jalon up`` / ``jalon down`` / ``jalon status`` and the test harness all use :class:`Stack`.
Everything lives under the home folder (``.jalon/`` by default): data, logs, PID files, the
bootstrap API key and ``stack.json``, the settings the stack was started with (so ``down`` and
``status`` find what ``up`` started whatever the caller's environment).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shared.apikeys import generate_key
from shared.runtime import procs, topology
from shared.runtime.nats import EmbeddedNats
from shared.runtime.postgres import EmbeddedPostgres
from shared.settings import database_url_for

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


@dataclass
class StackConfig:
    home: Path = field(default_factory=lambda: Path(os.environ.get(topology.ENV_HOME, ".jalon")))
    host: str = topology.DEFAULT_HOST
    postgres_port: int = topology.DEFAULT_POSTGRES_PORT
    nats_port: int = topology.DEFAULT_NATS_PORT
    nats_monitor_port: int = topology.DEFAULT_NATS_MONITOR_PORT
    ports: dict[str, int] = field(default_factory=lambda: {s.name: s.default_port for s in topology.SERVICES})
    workers: dict[str, int] = field(
        default_factory=lambda: {w.name: w.default_count for w in topology.WORKERS}
    )
    #: External servers instead of the embedded ones (``JALON_DATABASE_URL`` / ``JALON_NATS_URL``).
    external_database_url: str | None = None
    external_nats_url: str | None = None
    #: False for throw-away test stacks: fsync off, NATS syncs lazily.
    durable: bool = True
    log_json: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, home: Path | None = None) -> StackConfig:
        env = os.environ
        config = cls()
        if home is not None:
            config.home = home
        config.postgres_port = int(env.get("JALON_POSTGRES_PORT", config.postgres_port))
        config.nats_port = int(env.get("JALON_NATS_PORT", config.nats_port))
        config.nats_monitor_port = int(env.get("JALON_NATS_MONITOR_PORT", config.nats_monitor_port))
        for s in topology.SERVICES:
            config.ports[s.name] = int(env.get(topology.port_env(s.name), config.ports[s.name]))
        for w in topology.WORKERS:
            config.workers[w.name] = int(env.get(topology.worker_count_env(w), config.workers[w.name]))
        config.external_database_url = env.get(topology.ENV_DATABASE_URL) or None
        config.external_nats_url = env.get(topology.ENV_NATS_URL) or None
        return config

    def to_json(self) -> str:
        data = asdict(self)
        data["home"] = str(self.home)
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> StackConfig:
        data = json.loads(text)
        data["home"] = Path(data["home"])
        return cls(**data)


@dataclass
class ComponentStatus:
    name: str
    pid: int | None
    address: str
    state: str  # ready | running | stopped | external


class Stack:
    def __init__(self, config: StackConfig):
        self.config = config
        self.home = config.home.resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        self.postgres = (
            None
            if config.external_database_url
            else EmbeddedPostgres(self.home, config.postgres_port, config.host, durable=config.durable)
        )
        self.nats = (
            None
            if config.external_nats_url
            else EmbeddedNats(
                self.home, config.nats_port, config.nats_monitor_port, config.host, durable=config.durable
            )
        )

    # -- where things are ----------------------------------------------------------------------
    @classmethod
    def load(cls, home: Path | None = None) -> Stack:
        """The stack as last started in ``home`` (or a fresh configuration from the environment)."""
        home = (home or Path(os.environ.get(topology.ENV_HOME, ".jalon"))).resolve()
        state = home / "stack.json"
        if state.exists():
            return cls(StackConfig.from_json(state.read_text()))
        return cls(StackConfig.from_env(home))

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def database_server_url(self) -> str:
        if self.config.external_database_url:
            return self.config.external_database_url
        assert self.postgres is not None
        return self.postgres.url("postgres")

    @property
    def nats_url(self) -> str:
        if self.config.external_nats_url:
            return self.config.external_nats_url
        assert self.nats is not None
        return self.nats.url

    def service_url(self, name: str) -> str:
        return f"http://{self.config.host}:{self.config.ports[name]}"

    @property
    def gateway_url(self) -> str:
        return self.service_url("gateway")

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    # -- the bootstrap key ---------------------------------------------------------------------
    @property
    def api_key_file(self) -> Path:
        return self.home / "api-key"

    def api_key(self) -> str:
        """``JALON_BOOTSTRAP_API_KEY`` if set, else the key generated once into ``.jalon/api-key``."""
        given = os.environ.get(topology.ENV_BOOTSTRAP_API_KEY)
        if given:
            return given
        if self.api_key_file.exists():
            return self.api_key_file.read_text().strip()
        key, _, _ = generate_key()
        self.api_key_file.write_text(key + "\n")
        self.api_key_file.chmod(0o600)
        return key

    # -- infrastructure ------------------------------------------------------------------------
    def start_infrastructure(self, progress: Progress = _quiet) -> None:
        if self.postgres is not None:
            progress(f"PostgreSQL on {self.config.host}:{self.config.postgres_port}")
            self.postgres.start()
        if self.nats is not None:
            progress(f"nats-server (JetStream) on {self.config.host}:{self.config.nats_port}")
            self.nats.start()

    def migrate(self, progress: Progress = _quiet) -> None:
        from shared.db.migrations import upgrade

        for s in topology.SERVICES:
            progress(f"migrations of {s.name} (database {s.database})")
            upgrade(s.name, self.database_server_url, s.database)

    def ensure_streams(self) -> list[str]:
        import nats

        from shared.messaging.streams import ensure_streams

        async def run() -> list[str]:
            nc = await nats.connect(self.nats_url, connect_timeout=5, max_reconnect_attempts=3)
            try:
                return await ensure_streams(nc.jetstream())
            finally:
                await nc.close()

        return asyncio.run(run())

    # -- services ------------------------------------------------------------------------------
    def service_env(self, name: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                topology.ENV_DATABASE_URL: self.database_server_url,
                topology.ENV_NATS_URL: self.nats_url,
                "JALON_LOG_JSON": "true" if self.config.log_json else "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("JALON_DATABASE_NAME", None)
        for s in topology.DOMAIN_SERVICES:
            env[topology.service_url_env(s.name)] = self.service_url(s.name)
        if name == "gateway":
            env[topology.ENV_BOOTSTRAP_API_KEY] = self.api_key()
        env.update(self.config.extra_env)
        return env

    def service_pid(self, name: str) -> int | None:
        pid = procs.read_pid(self.pid_file(name))
        return pid if procs.alive(pid) else None

    def service_ready(self, name: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.service_url(name)}/readyz", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def start_service(self, name: str, *, wait: bool = True, timeout: float = 90.0) -> int:
        pid = self.service_pid(name)
        if pid is not None:
            return pid
        port = self.config.ports[name]
        if procs.port_open(self.config.host, port):
            raise RuntimeError(
                f"port {port} for {name} is taken by another program; set {topology.port_env(name)}"
            )
        spec = topology.spec(name)
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            spec.module,
            "--host",
            self.config.host,
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "10",
        ]
        proc = procs.spawn(argv, log_file=self.logs_dir / f"{name}.log", env=self.service_env(name))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file(name).write_text(str(proc.pid))
        if wait and not procs.wait_until(
            lambda: self.service_ready(name) or proc.poll() is not None, timeout, 0.2
        ):
            raise RuntimeError(f"{name} did not become ready in {timeout:.0f} s; see {self.logs_dir}")
        if proc.poll() is not None:
            tail = (self.logs_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited at start-up (code {proc.returncode}):\n{tail}")
        return proc.pid

    def stop_service(self, name: str) -> bool:
        stopped = procs.terminate(self.service_pid(name))
        self.pid_file(name).unlink(missing_ok=True)
        return stopped

    def kill_service(self, name: str) -> None:
        procs.kill_hard(self.service_pid(name))
        self.pid_file(name).unlink(missing_ok=True)

    # -- workers -----------------------------------------------------------------------------
    def worker_names(self) -> list[tuple[topology.WorkerSpec, str]]:
        return [
            (w, f"{w.name}-{i}")
            for w in topology.WORKERS
            for i in range(1, self.config.workers.get(w.name, 0) + 1)
        ]

    def start_worker(self, spec: topology.WorkerSpec, name: str) -> int:
        pid = self.service_pid(name)
        if pid is not None:
            return pid
        env = self.service_env(spec.service)
        proc = procs.spawn(
            [sys.executable, "-m", spec.module, "--worker-id", name],
            log_file=self.logs_dir / f"{name}.log",
            env=env,
        )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file(name).write_text(str(proc.pid))
        if procs.wait_until(lambda: proc.poll() is not None, 1.5, 0.1):
            tail = (self.logs_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited at start-up (code {proc.returncode}):\n{tail}")
        return proc.pid

    # -- the whole -----------------------------------------------------------------------------
    def up(self, progress: Progress = _quiet) -> None:
        (self.home / "stack.json").write_text(self.config.to_json())
        self.start_infrastructure(progress)
        self.migrate(progress)
        progress("JetStream streams: " + ", ".join(self.ensure_streams()))
        self.api_key()
        for s in topology.SERVICES:
            progress(f"{s.name} on {self.service_url(s.name)}")
            self.start_service(s.name)
        for spec, name in self.worker_names():
            progress(name)
            self.start_worker(spec, name)

    def down(self, progress: Progress = _quiet) -> None:
        for _spec, name in self.worker_names():
            # A worker hands its current job back within its grace period (10 s) before exiting.
            if procs.terminate(self.service_pid(name), timeout=30.0):
                progress(f"stopped {name}")
            self.pid_file(name).unlink(missing_ok=True)
        for s in reversed(topology.SERVICES):
            if self.stop_service(s.name):
                progress(f"stopped {s.name}")
        if self.nats is not None and self.nats.stop():
            progress("stopped nats-server")
        if self.postgres is not None and self.postgres.stop():
            progress("stopped PostgreSQL")

    def status(self) -> list[ComponentStatus]:
        out = []
        if self.postgres is not None:
            pid = self.postgres.pid()
            state = "ready" if self.postgres.ready() else ("running" if pid else "stopped")
            out.append(
                ComponentStatus("postgres", pid, f"{self.config.host}:{self.config.postgres_port}", state)
            )
        else:
            out.append(ComponentStatus("postgres", None, self.database_server_url, "external"))
        if self.nats is not None:
            pid = self.nats.pid()
            state = "ready" if self.nats.ready() else ("running" if pid else "stopped")
            out.append(ComponentStatus("nats", pid, self.nats.url, state))
        else:
            out.append(ComponentStatus("nats", None, self.nats_url, "external"))
        for s in topology.SERVICES:
            pid = self.service_pid(s.name)
            state = "ready" if pid and self.service_ready(s.name) else ("running" if pid else "stopped")
            out.append(ComponentStatus(s.name, pid, self.service_url(s.name), state))
        for _spec, name in self.worker_names():
            pid = self.service_pid(name)
            out.append(ComponentStatus(name, pid, "JetStream work queue", "ready" if pid else "stopped"))
        return out


def database_url(stack: Stack, service: str) -> str:
    return database_url_for(stack.database_server_url, topology.spec(service).database)
