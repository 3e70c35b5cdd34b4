"""The API key format, shared by the launcher (bootstrap key) and the gateway: ``jk_<id>_<secret>``."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

PREFIX = "jk"


@dataclass(frozen=True)
class ParsedKey:
    key_id: str
    secret: str


def generate_key() -> tuple[str, str, str]:
    """A fresh key: (full key to hand out once, its id, the hash to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{PREFIX}_{key_id}_{secret}", key_id, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(key: str) -> ParsedKey | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return ParsedKey(parts[1], parts[2])
