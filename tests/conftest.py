from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.runtime.procs import free_port
from shared.runtime.stack import Stack, StackConfig
from shared.runtime.topology import SERVICES
from tests.harness import Infra


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for layer in ("unit", "integration", "e2e"):
            if layer in parts:
                item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """Real PostgreSQL and nats-server for the whole session, on free ports."""
    infra = Infra.start(tmp_path_factory.mktemp("infra"))
    try:
        yield infra
    finally:
        infra.stop()


@pytest.fixture(scope="session")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The six services as real processes (uvicorn), on the session's PostgreSQL and NATS."""
    home = tmp_path_factory.mktemp("stack")
    config = StackConfig(
        home=home,
        ports={s.name: free_port() for s in SERVICES},
        external_database_url=infra.server_url,
        external_nats_url=infra.nats_url,
        durable=False,
        log_json=True,
        extra_env={"JALON_OUTBOX_POLL_INTERVAL_S": "0.2"},
    )
    stack = Stack(config)
    stack.up()
    try:
        yield stack
    finally:
        stack.down()
