"""API keys: ``jk_<id>_<secret>``; only a SHA-256 of the secret is stored (the secret has 256 bits of
entropy, so a slow hash buys nothing). Scopes: ``read``, ``write``, ``orders:write``, ``admin``."""

from __future__ import annotations

import hmac

from shared.apikeys import hash_secret, parse_key

SCOPES = ("read", "write", "orders:write", "admin")
#: Paths a connector with only ``orders:write`` may write to (besides reading nothing).
ORDER_INTAKE_PATHS = ("/v1/mrp/sales-orders",)


def from_bootstrap(key: str) -> tuple[str, str]:
    """Id and hash for an operator-chosen bootstrap key (any string; ids derive from it)."""
    parsed = parse_key(key)
    if parsed is not None:
        return parsed.key_id, hash_secret(parsed.secret)
    return "bootstrap", hash_secret(key)


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def required_scope(method: str, path: str) -> str:
    """The scope a request needs. ``admin`` implies every scope; ``write`` implies ``orders:write``."""
    if path.startswith("/v1/gateway/api-keys"):
        return "admin"
    if method in ("GET", "HEAD", "OPTIONS"):
        return "read"
    if any(path == p or path.startswith(p + "/") for p in ORDER_INTAKE_PATHS) and method == "POST":
        return "orders:write"
    return "write"


def grants(scopes: tuple[str, ...] | list[str], needed: str) -> bool:
    if "admin" in scopes or needed in scopes:
        return True
    return needed == "orders:write" and "write" in scopes
