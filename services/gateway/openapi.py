"""One OpenAPI 3.1 document for the whole API: every service's own document, merged.

Paths are already unique (``/v1/<service>/...``). Operation ids get the service's prefix when they
lack it; component schemas that two services define differently are renamed ``<service>_<Name>``
and every ``$ref`` to them rewritten, so nothing clashes.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx

REF_PREFIX = "#/components/schemas/"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith(REF_PREFIX):
                name = v[len(REF_PREFIX) :]
                out[k] = REF_PREFIX + renames.get(name, name)
            else:
                out[k] = _rewrite_refs(v, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(base: dict[str, Any], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge service documents into ``base`` (the gateway's own document, modified in place)."""
    merged = copy.deepcopy(base)
    merged["openapi"] = "3.1.0"
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    op_ids: set[str] = {
        op["operationId"]
        for item in paths.values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    for service, doc in sorted(documents.items()):
        renames: dict[str, str] = {}
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{service}_{name}"
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = _rewrite_refs(schema, renames)
        for path, raw_item in doc.get("paths", {}).items():
            item = _rewrite_refs(raw_item, renames)
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue
                op_id = op.get("operationId") or f"{method}_{path}"
                if not op_id.startswith(f"{service}_"):
                    op_id = f"{service}_{op_id}"
                while op_id in op_ids:
                    op_id += "_"
                op_ids.add(op_id)
                op["operationId"] = op_id
                op.setdefault("tags", [service])
                op.setdefault("security", [{"apiKey": []}])
            paths[path] = item
        tags.setdefault(service, {"name": service, "description": doc.get("info", {}).get("description", "")})
    merged["tags"] = list(tags.values())
    components.setdefault("securitySchemes", {})["apiKey"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A Jalon API key: 'Authorization: Bearer jk_...'",
    }
    return merged


async def fetch_documents(
    client: httpx.AsyncClient, upstreams: dict[str, str], timeout_s: float = 3.0
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Each reachable service's document; the unreachable ones listed with the reason."""

    async def one(service: str, base: str) -> tuple[str, dict[str, Any] | None, str | None]:
        try:
            r = await client.get(f"{base}/v1/{service}/openapi.json", timeout=timeout_s)
            r.raise_for_status()
            return service, r.json(), None
        except (httpx.HTTPError, ValueError) as exc:
            return service, None, f"{type(exc).__name__}"

    results = await asyncio.gather(*(one(s, b) for s, b in upstreams.items()))
    docs = {s: d for s, d, _ in results if d is not None}
    missing = {s: e for s, _, e in results if e is not None}
    return docs, missing
