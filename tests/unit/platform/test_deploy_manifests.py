"""``docker-compose.yml``, ``deploy/k8s/`` and the ``Dockerfile`` agree with ``shared.runtime.topology``.

Nothing here runs a container: the files are parsed and compared with the topology (service names,
ports, ASGI factories, environment variables) that the launcher uses too.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from shared.messaging.streams import JOBS_STREAM
from shared.runtime import topology
from shared.runtime.topology import ServiceSpec

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_DIR = ROOT / "deploy" / "k8s"
NAMESPACE = "jalon"
#: The scheduler workers: not an HTTP service, so not in the topology.
WORKER = "scheduler-worker"
WORKER_COMMAND = ["python", "-m", "services.scheduler.worker"]
WORKER_CONSUMER = "scheduler-workers"
MIGRATE_STEPS = ("jalon migrate", "jalon streams")
CLUSTER_SCOPED_KINDS = {"Namespace"}

DECLARED_ENV = {
    topology.ENV_DATABASE_URL,
    topology.ENV_NATS_URL,
    topology.ENV_BOOTSTRAP_API_KEY,
    topology.ENV_HOME,
    *(topology.service_url_env(s.name) for s in topology.DOMAIN_SERVICES),
    *(topology.port_env(s.name) for s in topology.SERVICES),
}

by_name = pytest.mark.parametrize("service", topology.SERVICES, ids=lambda s: s.name)


# -- loading -------------------------------------------------------------------------------------
@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def compose_service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    service = services[name]
    assert isinstance(service, dict)
    return service


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def compose_command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def k8s_files() -> list[Path]:
    return sorted(p for p in K8S_DIR.iterdir() if p.suffix in (".yaml", ".yml"))


@cache
def k8s_documents() -> tuple[dict[str, Any], ...]:
    documents = []
    for path in k8s_files():
        if path.name.startswith("kustomization."):
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                assert isinstance(document, dict), f"{path.name}: a document that is not a mapping"
                documents.append(document)
    return tuple(documents)


def k8s(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in k8s_documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r} in deploy/k8s, found {len(found)}"
    return found[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]["template"]["spec"]
    assert isinstance(spec, dict)
    return spec


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    container = containers[0]
    assert isinstance(container, dict)
    return container


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A probe's or a Service's port, named ports resolved against the container."""
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"no container port named {port!r}"
    return int(named[port])


def k8s_env_names(container: dict[str, Any]) -> set[str]:
    """What the container sees: its ``env`` plus the keys of every ConfigMap / Secret it imports."""
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key in source:
                resource = k8s(kind, source[key]["name"])
                names |= set(resource.get("data") or {}) | set(resource.get("stringData") or {})
    return names


def uvicorn_target(command: list[str]) -> tuple[str, int]:
    assert command[0] == "uvicorn", command
    assert "--factory" in command, command
    return command[command.index("--factory") + 1], int(command[command.index("--port") + 1])


def readyz_port(healthcheck: dict[str, Any]) -> int:
    test = healthcheck["test"]
    text = " ".join(test) if isinstance(test, list) else str(test)
    match = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)/readyz", text)
    assert match, f"healthcheck does not call /readyz: {text}"
    return int(match.group(1))


def jalon_compose_services() -> list[str]:
    return [*topology.SERVICE_NAMES, "migrate", WORKER]


# -- docker-compose.yml --------------------------------------------------------------------------
@by_name
def test_every_service_runs_in_compose_with_its_factory_and_port(service: ServiceSpec) -> None:
    module, port = uvicorn_target(compose_command(compose_service(service.name)))
    assert module == service.module
    assert port == service.default_port


@by_name
def test_every_compose_service_is_healthy_only_when_readyz_answers_on_its_port(service: ServiceSpec) -> None:
    healthcheck = compose_service(service.name)["healthcheck"]
    assert readyz_port(healthcheck) == service.default_port
    assert healthcheck["test"][:2] == ["CMD", "python"]  # no curl in the slim image


@pytest.mark.parametrize("name", [*topology.SERVICE_NAMES, WORKER])
def test_every_compose_process_waits_for_healthy_infrastructure_and_finished_migrations(name: str) -> None:
    depends_on = compose_service(name)["depends_on"]
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["nats"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", jalon_compose_services())
def test_every_compose_process_runs_the_one_image_against_the_compose_servers(name: str) -> None:
    service = compose_service(name)
    migrate = compose_service("migrate")
    assert service["image"] == migrate["image"]
    assert service["build"]["context"] == "."
    env = compose_env(service)
    database = urlsplit(env[topology.ENV_DATABASE_URL])
    nats = urlsplit(env[topology.ENV_NATS_URL])
    assert (database.scheme, database.hostname, database.path) == ("postgresql", "postgres", "/postgres")
    assert (nats.scheme, nats.hostname, nats.port) == ("nats", "nats", topology.DEFAULT_NATS_PORT)


def test_the_compose_migrate_step_applies_migrations_then_creates_streams_once_servers_are_healthy() -> None:
    migrate = compose_service("migrate")
    command = " ".join(compose_command(migrate))
    assert all(step in command for step in MIGRATE_STEPS)
    assert command.index(MIGRATE_STEPS[0]) < command.index(MIGRATE_STEPS[1])
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["nats"]["condition"] == "service_healthy"
    assert migrate.get("restart") == "no"


def test_the_compose_gateway_reaches_each_service_by_its_name_and_port() -> None:
    gateway = compose_service(topology.GATEWAY.name)
    env = compose_env(gateway)
    for service in topology.DOMAIN_SERVICES:
        url = urlsplit(env[topology.service_url_env(service.name)])
        assert (url.scheme, url.hostname, url.port) == ("http", service.name, service.default_port)
        assert gateway["depends_on"][service.name]["condition"] == "service_healthy"
    assert topology.ENV_BOOTSTRAP_API_KEY in env


def test_the_compose_gateway_is_the_only_published_jalon_port() -> None:
    published = {name: compose_service(name).get("ports", []) for name in jalon_compose_services()}
    gateway_port = topology.GATEWAY.default_port
    assert [str(p).rsplit(":", 1)[-1] for p in published.pop(topology.GATEWAY.name)] == [str(gateway_port)]
    assert not any(published.values())


def test_the_compose_scheduler_worker_runs_the_worker_module() -> None:
    assert compose_command(compose_service(WORKER)) == WORKER_COMMAND


def test_compose_postgres_and_nats_have_healthchecks_and_jetstream_syncs_every_write() -> None:
    postgres = compose_service("postgres")
    assert postgres["image"].startswith("postgres:17")
    assert "pg_isready" in postgres["healthcheck"]["test"]
    nats = compose_service("nats")
    assert nats["image"].startswith("nats:2.11")
    assert {"-js", "-sd"} <= set(compose_command(nats))
    assert f":{topology.DEFAULT_NATS_MONITOR_PORT}/healthz" in " ".join(nats["healthcheck"]["test"])
    configs = compose()["configs"]
    (mounted,) = nats["configs"]
    assert re.search(r"sync_interval:\s*always", configs[mounted["source"]]["content"])


def test_compose_only_uses_environment_variables_the_topology_declares() -> None:
    used = {k for name in compose()["services"] for k in compose_env(compose_service(name))}
    assert {k for k in used if k.startswith("JALON_")} <= DECLARED_ENV


# -- deploy/k8s ----------------------------------------------------------------------------------
def test_the_kustomization_lists_exactly_the_manifests_that_exist() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    manifests = {p.name for p in k8s_files() if not p.name.startswith("kustomization.")}
    assert set(listed) == manifests
    assert kustomization["namespace"] == NAMESPACE


def test_every_k8s_resource_is_named_and_namespaced() -> None:
    for document in k8s_documents():
        assert document["apiVersion"]
        assert document["kind"]
        assert document["metadata"]["name"]
        if document["kind"] not in CLUSTER_SCOPED_KINDS:
            assert document["metadata"].get("namespace") == NAMESPACE, document["metadata"]["name"]
    assert k8s("Namespace", NAMESPACE)


@by_name
def test_every_service_has_a_k8s_deployment_with_its_factory_and_port(service: ServiceSpec) -> None:
    deployment = k8s("Deployment", service.name)
    container = only_container(deployment)
    assert uvicorn_target(container["command"]) == (service.module, service.default_port)
    assert [p["containerPort"] for p in container["ports"]] == [service.default_port]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


@by_name
def test_every_k8s_deployment_probes_readyz_for_readiness_and_livez_for_liveness(
    service: ServiceSpec,
) -> None:
    container = only_container(k8s("Deployment", service.name))
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path
        assert container_port(container, http_get["port"]) == service.default_port


@by_name
def test_every_k8s_deployment_has_resources_and_prometheus_scrape_annotations(service: ServiceSpec) -> None:
    deployment = k8s("Deployment", service.name)
    container = only_container(deployment)
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["requests"]["memory"]
    assert container["resources"]["limits"]["memory"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(service.default_port)
    assert annotations["prometheus.io/path"] == "/metrics"


@by_name
def test_every_k8s_service_selects_its_pods_and_targets_their_port(service: ServiceSpec) -> None:
    deployment = k8s("Deployment", service.name)
    container = only_container(deployment)
    k8s_service = k8s("Service", service.name)
    assert (
        k8s_service["spec"]["selector"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    (port,) = k8s_service["spec"]["ports"]
    assert port["port"] == service.default_port
    assert container_port(container, port.get("targetPort", port["port"])) == service.default_port


@pytest.mark.parametrize(
    ("kind", "name"),
    [*(("Deployment", s.name) for s in topology.SERVICES), ("Deployment", WORKER), ("Job", "jalon-migrate")],
)
def test_every_k8s_workload_gets_the_servers_from_the_config_map_and_the_secret(kind: str, name: str) -> None:
    workload = k8s(kind, name)
    container = only_container(workload)
    assert {topology.ENV_DATABASE_URL, topology.ENV_NATS_URL} <= k8s_env_names(container)
    for entry in container.get("env", []):
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            secret = k8s("Secret", ref["name"])
            assert ref["key"] in (secret.get("stringData") or secret.get("data") or {})
    security = pod_spec(workload)["securityContext"]
    assert security["runAsNonRoot"] is True


def test_the_k8s_gateway_reaches_each_service_by_its_name_and_port_and_holds_the_admin_key() -> None:
    container = only_container(k8s("Deployment", topology.GATEWAY.name))
    env = {e["name"]: e for e in container["env"]}
    for service in topology.DOMAIN_SERVICES:
        url = urlsplit(env[topology.service_url_env(service.name)]["value"])
        assert (url.scheme, url.hostname, url.port) == ("http", service.name, service.default_port)
        assert k8s("Service", service.name)["spec"]["ports"][0]["port"] == service.default_port
    assert env[topology.ENV_BOOTSTRAP_API_KEY]["valueFrom"]["secretKeyRef"]


def test_the_k8s_ingress_sends_traffic_to_the_gateway_service() -> None:
    backends = [
        path["backend"]["service"]
        for document in k8s_documents()
        if document["kind"] == "Ingress"
        for rule in document["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends
    assert all(
        b == {"name": topology.GATEWAY.name, "port": {"number": topology.GATEWAY.default_port}}
        for b in backends
    )


def test_the_k8s_migration_job_applies_migrations_then_creates_streams() -> None:
    command = " ".join(only_container(k8s("Job", "jalon-migrate"))["command"])
    assert command.index(MIGRATE_STEPS[0]) < command.index(MIGRATE_STEPS[1])


def test_the_k8s_scheduler_worker_runs_the_worker_module_and_leaves_replicas_to_keda() -> None:
    deployment = k8s("Deployment", WORKER)
    assert only_container(deployment)["command"] == WORKER_COMMAND
    assert "replicas" not in deployment["spec"]


def test_the_scaled_object_scales_the_scheduler_workers_on_the_lag_of_the_jobs_consumer() -> None:
    (scaled,) = [d for d in k8s_documents() if d["kind"] == "ScaledObject"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == WORKER
    assert spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    assert k8s("Deployment", WORKER)
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 10)
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "nats-jetstream"
    metadata = trigger["metadata"]
    assert metadata["stream"] == JOBS_STREAM
    assert metadata["consumer"] == WORKER_CONSUMER
    assert metadata["account"] == "$G"
    assert int(metadata["lagThreshold"]) > 0
    # The monitoring endpoint is on the NATS server the services talk to.
    nats_url = urlsplit(k8s("ConfigMap", "jalon-config")["data"][topology.ENV_NATS_URL])
    assert (
        metadata["natsServerMonitoringEndpoint"]
        == f"{nats_url.hostname}:{topology.DEFAULT_NATS_MONITOR_PORT}"
    )


def test_k8s_only_uses_environment_variables_the_topology_declares() -> None:
    used: set[str] = set()
    for document in k8s_documents():
        if document["kind"] in ("ConfigMap", "Secret"):
            used |= set(document.get("data") or {}) | set(document.get("stringData") or {})
        elif document["kind"] in ("Deployment", "Job"):
            used |= {e["name"] for c in pod_spec(document)["containers"] for e in c.get("env", [])}
    assert {k for k in used if k.startswith("JALON_")} <= DECLARED_ENV
    assert {topology.ENV_DATABASE_URL, topology.ENV_BOOTSTRAP_API_KEY} <= used


# -- Dockerfile ----------------------------------------------------------------------------------
def test_the_image_installs_the_project_on_python_3_11_slim_and_runs_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"pip install --no-deps \.", dockerfile)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users
    assert not users[-1].startswith(("root", "0:", "0 ")), users[-1]
    assert users[-1] != "0"
    assert "services.${SERVICE}.app:create_app" in dockerfile
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".jalon"} <= ignored
    assert not {"pyproject.toml", "README.md", "shared", "services"} & ignored
