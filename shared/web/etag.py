"""``ETag`` / ``If-Match`` for updates of existing resources (optimistic concurrency).

A resource carries an integer ``version`` bumped on every change; its ETag is ``"<version>"``
(strong). ``If-Match`` with another version is a 412 problem and changes nothing. ``If-Match: *``
requires the resource to exist. Without ``If-Match`` the write goes through (last writer wins).
"""

from __future__ import annotations

from fastapi import Request, Response

from shared.web.problems import PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def check_if_match(request: Request, current_version: int | None, resource: str) -> None:
    """Raise 412 when ``If-Match`` does not name the current version (``None``: does not exist)."""
    header = request.headers.get("if-match")
    if header is None:
        return
    wanted = [t.strip().removeprefix("W/") for t in header.split(",")]
    if "*" in wanted:
        if current_version is None:
            raise PreconditionFailed(f"{resource} does not exist (If-Match: *)")
        return
    if current_version is None or etag(current_version) not in wanted:
        raise PreconditionFailed(
            f"{resource} has changed: its current version is "
            f"{etag(current_version) if current_version is not None else 'none (it does not exist)'}, "
            f"If-Match asked for {header}",
            current_etag=etag(current_version) if current_version is not None else None,
        )
