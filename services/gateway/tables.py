"""The gateway's own table: API clients and their keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Column, DateTime, Integer, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.db.platform import utcnow

gateway_registry = registry()


class GatewayModel(SQLModel, registry=gateway_registry):
    pass


class ApiKeyRow(GatewayModel, table=True):
    __tablename__ = "api_keys"

    id: str = Field(sa_column=Column(Text, primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    secret_hash: str = Field(sa_column=Column(Text, nullable=False))
    scopes: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    rate_limit_per_minute: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    created_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
