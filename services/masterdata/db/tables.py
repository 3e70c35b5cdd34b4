"""The masterdata tables (see migration ``0002``): one table per record kind, same shape for all.

Repositories talk SQL to these tables (bulk paths use ``COPY``); the row classes document the
layout and serve typed single-row reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

masterdata_registry = registry()


class MasterDataModel(SQLModel, registry=masterdata_registry):
    pass


class RecordColumns(MasterDataModel):
    """Columns every record table has."""

    key: str = Field(sa_type=Text, primary_key=True)
    record: dict[str, Any] = Field(sa_type=JSONB, nullable=False)
    version: int = Field(sa_type=Integer, nullable=False)
    last_seq: int = Field(sa_type=BigInteger, nullable=False)
    created_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_by: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    updated_by: str | None = Field(default=None, sa_type=Text)


class UnitRow(RecordColumns, table=True):
    __tablename__ = "units"


class FamilyRow(RecordColumns, table=True):
    __tablename__ = "families"


class UnitConversionRow(RecordColumns, table=True):
    """``key`` is ``FROM/TO`` or ``FROM/TO@SKU`` for an item-specific conversion."""

    __tablename__ = "unit_conversions"


class CalendarRow(RecordColumns, table=True):
    __tablename__ = "calendars"


class WorkCenterRow(RecordColumns, table=True):
    __tablename__ = "work_centers"


class ItemRow(RecordColumns, table=True):
    """``kind``, ``family``, ``phantom`` copy the record for the list filters; ``low_level_code`` is
    derived (kept current on every BOM change) with its own ``llc_version``."""

    __tablename__ = "items"

    kind: str = Field(sa_type=Text, nullable=False)
    family: str | None = Field(default=None, sa_type=Text)
    phantom: bool = False
    low_level_code: int = 0
    llc_version: int = 0


class BomRow(RecordColumns, table=True):
    """``key`` is the parent sku; ``record`` holds all its lines."""

    __tablename__ = "boms"


class RoutingRow(RecordColumns, table=True):
    __tablename__ = "routings"


class SupplierRow(RecordColumns, table=True):
    __tablename__ = "suppliers"


class HistoryRow(MasterDataModel, table=True):
    """One change of one record: ``seq`` is the global change number."""

    __tablename__ = "history"

    seq: int = Field(sa_type=BigInteger, primary_key=True)
    record_kind: str = Field(sa_type=Text)
    key: str = Field(sa_type=Text)
    version: int
    op: str = Field(sa_type=Text)  # create | update | delete
    changed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    changed_by: str | None = Field(default=None, sa_type=Text)
    import_id: str | None = Field(default=None, sa_type=Text)
    changes: list[dict[str, Any]] = Field(sa_type=JSONB)


class ImportRow(MasterDataModel, table=True):
    __tablename__ = "imports"

    id: str = Field(sa_type=Text, primary_key=True)
    status: str = Field(sa_type=Text)
    created_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_by: str | None = Field(default=None, sa_type=Text)
    seq_from: int | None = Field(default=None, sa_type=BigInteger)
    seq_to: int | None = Field(default=None, sa_type=BigInteger)
    result: dict[str, Any] = Field(sa_type=JSONB)


RECORD_TABLES: dict[str, str] = {
    "unit": "units",
    "family": "families",
    "unit_conversion": "unit_conversions",
    "calendar": "calendars",
    "work_center": "work_centers",
    "item": "items",
    "bom": "boms",
    "routing": "routings",
    "supplier": "suppliers",
}
