"""The demo's chapters, in the order of the planning chain. Each talks to the gateway only."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from shared.demo.report import Report
from shared.runtime.topology import SERVICES


class DemoFailed(Exception):
    pass


def expect(response: httpx.Response, *codes: int) -> httpx.Response:
    if response.status_code not in codes:
        raise DemoFailed(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response


def platform(client: httpx.Client, report: Report) -> None:
    report.chapter("Platform: every service, through the gateway")
    services = expect(client.get("/v1/gateway/services"), 200).json()["items"]
    rows = []
    for s in SERVICES:
        info = expect(client.get(f"/v1/{s.name}/info"), 200).json()
        health = next((x for x in services if x["service"] == s.name), None)
        rows.append(
            [
                s.name,
                info["version"],
                info["schema_revision"],
                health["status"] if health else "ready (gateway)",
                f"{health['latency_ms']} ms" if health else "-",
            ]
        )
    report.table("Services", ["service", "version", "schema", "status", "readyz latency"], rows)
    not_ready = [s["service"] for s in services if s["status"] != "ready"]
    if not_ready:
        raise DemoFailed(f"not ready: {', '.join(not_ready)}")
    report.say(f"All {len(SERVICES)} services are healthy behind {client.base_url}.")


CHAPTERS: list[Callable[[httpx.Client, Report], None]] = [platform]
