"""The whole stack through the gateway: health, auth, scopes, rate limit, faults, OpenAPI."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from alembic.script import ScriptDirectory

from shared.db.migrations import alembic_config
from shared.runtime import procs
from shared.runtime.procs import free_port
from shared.runtime.stack import Stack, StackConfig
from shared.runtime.topology import DOMAIN_SERVICES, SERVICES
from tests.harness import Infra


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=20
    ) as client:
        yield client


def head_revision(service: str) -> str | None:
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused/x"))
    return script.get_current_head()


def new_key(admin: httpx.Client, *scopes: str, rate: int | None = None) -> str:
    body: dict[str, object] = {"name": f"test {'+'.join(scopes)}", "scopes": list(scopes)}
    if rate is not None:
        body["rate_limit_per_minute"] = rate
    r = admin.post("/v1/gateway/api-keys", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def test_every_service_is_ready_and_answers_its_info_through_the_gateway(admin: httpx.Client) -> None:
    services = admin.get("/v1/gateway/services").json()["items"]
    assert {s["service"]: s["status"] for s in services} == {s.name: "ready" for s in DOMAIN_SERVICES}
    for s in SERVICES:
        info = admin.get(f"/v1/{s.name}/info")
        assert info.status_code == 200, info.text
        assert info.json()["name"] == s.name
        assert info.json()["schema_revision"] == head_revision(s.name)


def test_a_request_without_a_key_is_a_401_problem(stack: Stack) -> None:
    r = httpx.get(f"{stack.gateway_url}/v1/mrp/info")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["title"] == "Unauthorized"
    wrong = httpx.get(f"{stack.gateway_url}/v1/mrp/info", headers={"Authorization": "Bearer jk_nope_nope"})
    assert wrong.status_code == 401


def test_a_key_without_the_needed_scope_is_a_403(stack: Stack, admin: httpx.Client) -> None:
    reader = new_key(admin, "read")
    connector = new_key(admin, "orders:write")
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as c:
        ok = c.get("/v1/inventory/info", headers={"Authorization": f"Bearer {reader}"})
        assert ok.status_code == 200
        denied = c.post(
            "/v1/gateway/api-keys",
            json={"name": "x", "scopes": ["read"]},
            headers={"Authorization": f"Bearer {reader}"},
        )
        assert denied.status_code == 403
        assert denied.json()["required_scope"] == "admin"
        write = c.put("/v1/masterdata/items/X", json={}, headers={"Authorization": f"Bearer {reader}"})
        assert write.status_code == 403
        assert write.json()["required_scope"] == "write"
        read_by_connector = c.get("/v1/mrp/info", headers={"Authorization": f"Bearer {connector}"})
        assert read_by_connector.status_code == 403


def test_a_revoked_key_stops_working(stack: Stack, admin: httpx.Client) -> None:
    key = new_key(admin, "read")
    key_id = key.split("_")[1]
    with httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key}"}) as c:
        assert c.get("/v1/mrp/info").status_code == 200
        revoked = admin.delete(f"/v1/gateway/api-keys/{key_id}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert c.get("/v1/mrp/info").status_code == 401


def test_the_rate_limit_answers_429_with_retry_after(stack: Stack, admin: httpx.Client) -> None:
    key = new_key(admin, "read", rate=3)
    with httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key}"}) as c:
        codes = [c.get("/v1/mrp/info").status_code for _ in range(4)]
        limited = c.get("/v1/mrp/info")
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert limited.json()["type"] == "rate-limited"


def test_a_stopped_service_is_a_503_problem_at_once_not_a_hang(stack: Stack, admin: httpx.Client) -> None:
    stack.stop_service("capacity")
    try:
        started = time.monotonic()
        r = admin.get("/v1/capacity/info")
        assert time.monotonic() - started < 5
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["service"] == "capacity"
        services = {s["service"]: s["status"] for s in admin.get("/v1/gateway/services").json()["items"]}
        assert services["capacity"] == "unreachable"
        assert admin.get("/v1/mrp/info").status_code == 200
    finally:
        stack.start_service("capacity")
    assert admin.get("/v1/capacity/info").status_code == 200


def test_an_unknown_service_is_a_404_problem(admin: httpx.Client) -> None:
    r = admin.get("/v1/nosuch/info")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_a_postgresql_restart_is_survived_without_restarting_the_services(
    infra: Infra, stack: Stack, admin: httpx.Client
) -> None:
    pids = {s.name: stack.service_pid(s.name) for s in SERVICES}
    assert admin.get("/v1/masterdata/info").status_code == 200
    infra.restart_postgres()
    deadline = time.monotonic() + 30
    ok: dict[str, int] = {}
    while time.monotonic() < deadline and len(ok) < len(SERVICES):
        for s in SERVICES:
            if s.name not in ok and admin.get(f"/v1/{s.name}/info").status_code == 200:
                ok[s.name] = 200
        time.sleep(0.2)
    assert set(ok) == {s.name for s in SERVICES}
    assert {s.name: stack.service_pid(s.name) for s in SERVICES} == pids


def test_the_gateway_serves_one_openapi_document_with_unique_operation_ids(stack: Stack) -> None:
    doc = httpx.get(f"{stack.gateway_url}/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    for s in SERVICES:
        assert f"/v1/{s.name}/info" in doc["paths"]
    op_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(op_ids) == len(set(op_ids))
    refs = {ref.rsplit("/", 1)[1] for ref in _refs(doc["paths"])}
    assert refs <= set(doc["components"]["schemas"])
    ui = httpx.get(f"{stack.gateway_url}/docs")
    assert ui.status_code == 200
    assert "/openapi.json" in ui.text


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_up_then_down_leaves_no_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("updown")
    config = StackConfig(
        home=home,
        postgres_port=free_port(),
        nats_port=free_port(),
        nats_monitor_port=free_port(),
        ports={s.name: free_port() for s in SERVICES},
        durable=False,
    )
    stack = Stack(config)
    stack.up()
    try:
        status = {c.name: c for c in stack.status()}
        assert all(c.state == "ready" for c in status.values()), status
        pids = [c.pid for c in status.values()]
        assert all(pids)
        # A second `up` on the same home reuses what runs and the data.
        Stack.load(home).up()
        assert [c.pid for c in Stack.load(home).status()] == pids
    finally:
        Stack.load(home).down()
    assert not any(procs.alive(pid) for pid in pids)
    assert all(c.state == "stopped" for c in Stack.load(home).status())
