"""Cursor pagination: ``page_size`` + opaque ``page_token``; answers ``{items, next_page_token}``.

The token carries the sort key of the last row of the page (keyset pagination), so pages stay
correct while rows are inserted, and each page is an index range scan.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from shared.web.problems import ValidationFailed

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = None


class PageParams(BaseModel):
    page_size: int = DEFAULT_PAGE_SIZE
    page_token: str | None = None

    def after(self) -> list[Any] | None:
        """The sort key the page starts after, or None for the first page."""
        if not self.page_token:
            return None
        return decode_token(self.page_token)


def encode_token(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> list[Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.one("query.page_token", "not a page token from this API") from exc
    if not isinstance(value, list):
        raise ValidationFailed.one("query.page_token", "not a page token from this API")
    return value


def page_params(
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    page_token: Annotated[str | None, Query()] = None,
) -> PageParams:
    return PageParams(page_size=page_size, page_token=page_token)


def make_page(rows: list[T], params: PageParams, key: Any) -> Page[T]:
    """``rows`` fetched with ``limit page_size + 1``; ``key(row)`` gives the row's sort key list."""
    more = len(rows) > params.page_size
    rows = rows[: params.page_size]
    token = encode_token(key(rows[-1])) if more and rows else None
    return Page[T](items=rows, next_page_token=token)
