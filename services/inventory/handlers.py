"""Inventory use cases: each runs inside the caller's unit of work (one transaction), loads and
locks what it needs through ``db.repositories``, decides with the pure ``domain`` and writes the
new state with its outgoing events.

Rules added here (the domain is silent on them):

- A movement's sku must be an item of the master-data replica; its locations must exist. With no
  location, ``settings.default_location`` (``MAIN``) is used.
- A movement may be dated (``at``), but not before the last movement of its sku and not in the
  future: per sku, ledger order is time order, which lets a valuation as of a date read the
  running figures stored on the sku's last movement before it. Undated movements are dated now.
- Every movement is valued when it is booked, under FIFO and weighted average (the state is kept in
  ``item_costs`` and ``cost_layers``); the purchase price variance of a receipt is booked against
  the item's standard cost when master data gives one. Standard valuation is quantity x the
  item's current standard cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.db import repositories as repo
from services.inventory.db.repositories import BalanceFigures, api_lot, db_lot
from services.inventory.domain import abc as abc_domain
from services.inventory.domain import counts as counts_domain
from services.inventory.domain import reorder as reorder_domain
from services.inventory.domain import reservations as res_domain
from services.inventory.domain.ledger import StockPosition, balance_changes
from services.inventory.domain.model import (
    ZERO,
    InsufficientStock,
    InvalidField,
    InventoryError,
    Location,
    Movement,
    MovementType,
    ReservationError,
    StockKey,
    to_cents,
    to_unit_cost,
)
from services.inventory.domain.valuation import (
    AverageCost,
    CostLayer,
    CostMethod,
    FifoCost,
    Posting,
    StandardCost,
    Valuation,
)
from services.inventory.settings import InventorySettings
from shared.events import CloudEvent, new_event
from shared.web.problems import Conflict, FieldError, NotFound, ValidationFailed

Emit = Callable[[CloudEvent], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------- problems


class InsufficientStockProblem(Conflict):
    title = "Insufficient stock"
    type_ = "insufficient-stock"


def insufficient(exc: InsufficientStock, field: str = "qty") -> InsufficientStockProblem:
    return InsufficientStockProblem(
        str(exc),
        errors=[FieldError(field=field, message=str(exc), code="insufficient_stock").model_dump()],
        sku=exc.sku,
        location=exc.location,
        lot=exc.lot,
        requested=str(exc.requested),
        available=str(exc.available),
        missing=str(exc.missing),
    )


def invalid(exc: InvalidField, prefix: str = "") -> ValidationFailed:
    return ValidationFailed.one(f"{prefix}{exc.field}", exc.message)


# ------------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class RecordMovement:
    type: MovementType
    sku: str
    qty: Decimal
    location: str | None = None
    to_location: str | None = None
    lot: str | None = None
    expiry: date | None = None
    unit_cost: Decimal | None = None
    reason: str | None = None
    reference: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BalanceAfter:
    sku: str
    location: str
    lot: str | None
    qty_delta: Decimal
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "location": self.location,
            "lot": self.lot,
            "qty_delta": self.qty_delta,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
        }


@dataclass(frozen=True, slots=True)
class BookedMovement:
    id: str
    seq: int
    movement: Movement
    recorded_at: datetime
    fifo: Posting
    average: Posting
    ppv: Decimal
    balances: list[BalanceAfter]
    reservation_id: str | None = None

    @property
    def unit_cost(self) -> Decimal | None:
        """The receipt's cost; for stock that left, its FIFO cost per unit."""
        m = self.movement
        if m.unit_cost is not None:
            return m.unit_cost
        if self.fifo.qty != 0:
            return to_unit_cost(abs(self.fifo.value / self.fifo.qty))
        return None


# ------------------------------------------------------------------------------- helpers


def position_from(locations: Iterable[Location], figures: dict[StockKey, BalanceFigures]) -> StockPosition:
    """A domain position holding the locked balances."""
    position = StockPosition(locations)
    for key, fig in figures.items():
        position._on_hand[key] = fig.on_hand
        position._reserved[key] = fig.reserved
    return position


async def require_items(session: AsyncSession, skus: Iterable[str], field: str = "sku") -> dict[str, Any]:
    wanted = set(skus)
    found = await repo.items(session, wanted)
    missing = sorted(wanted - set(found))
    if missing:
        raise ValidationFailed(
            [
                FieldError(
                    field=field, message=f"unknown sku {s!r}: not an item in master data", code="unknown"
                )
                for s in missing
            ]
        )
    return found


def stock_changed(booked: BookedMovement) -> CloudEvent:
    m = booked.movement
    first = booked.balances[0] if booked.balances else None
    return new_event(
        "inventory",
        "stock",
        "changed",
        {
            "movement_id": booked.id,
            "seq": booked.seq,
            "type": m.type.value,
            "sku": m.sku,
            "location": m.location,
            "to_location": m.to_location,
            "lot": m.lot,
            "qty": str(m.qty),
            "qty_delta": str(first.qty_delta) if first else "0",
            "on_hand": str(first.on_hand) if first else None,
            "reserved": str(first.reserved) if first else None,
            "available": str(first.available) if first else None,
            "unit_cost": str(booked.unit_cost) if booked.unit_cost is not None else None,
            "value_delta": str(booked.fifo.value),
            "at": m.at.isoformat(),
            "reference": m.reference,
            "reason": m.reason,
            "reservation_id": booked.reservation_id,
            "balances": [
                {k: (str(v) if isinstance(v, Decimal) else v) for k, v in b.as_dict().items()}
                for b in booked.balances
            ],
        },
        subject=m.sku,
    )


# ------------------------------------------------------------------------------- the ledger


class Ledger:
    """Books movements in one transaction: balances locked and updated, valued, events emitted."""

    def __init__(self, session: AsyncSession, emit: Emit, settings: InventorySettings) -> None:
        self.session = session
        self.emit = emit
        self.settings = settings

    async def book(
        self,
        command: RecordMovement,
        *,
        reserved_issue: bool = False,
        reservation_id: str | None = None,
        dedup_key: str | None = None,
        item: dict[str, Any] | None = None,
    ) -> BookedMovement:
        session = self.session
        now = utcnow()
        location_code = command.location or self.settings.default_location
        try:
            probe = Movement(
                type=command.type,
                sku=command.sku,
                qty=command.qty,
                location=location_code,
                at=command.at or now,
                to_location=command.to_location,
                lot=command.lot or None,
                unit_cost=command.unit_cost,
                reason=command.reason,
                reference=command.reference,
            )
        except InvalidField as exc:
            raise invalid(exc) from exc
        if command.at is not None and command.at > now + timedelta(seconds=self.settings.max_future_s):
            raise ValidationFailed.one("at", "a movement cannot be dated in the future", code="future")
        if command.expiry is not None and command.lot is None:
            raise ValidationFailed.one("expiry", "an expiry date needs a lot")
        codes = [location_code] + ([command.to_location] if command.to_location else [])
        incoming = probe.type is MovementType.RECEIPT or (
            probe.type is MovementType.ADJUSTMENT and probe.qty > 0
        )
        # A receipt into stock that is not negative opens a layer and needs none of the others.
        layers_wanted = (
            "never" if probe.type is MovementType.TRANSFER else "negative" if incoming else "always"
        )
        # One round trip: the item and locations read, balances then valuation state locked.
        state = await repo.movement_state(session, probe.sku, codes, codes, probe.lot, layers_wanted)
        if item is None:
            if state.item is None:
                raise ValidationFailed.one(
                    "sku", f"unknown sku {command.sku!r}: not an item in master data", code="unknown"
                )
            item = state.item
        locations = state.locations
        for field_name, code in (("location", location_code), ("to_location", command.to_location)):
            if code is not None and code not in locations:
                raise ValidationFailed.one(field_name, f"unknown location {code!r}", code="unknown")
        figures = state.figures
        cost = state.cost
        last: datetime | None = cost.last_movement_at
        if command.at is None:
            at = max(now, last) if last is not None else now
        else:
            if last is not None and command.at < last:
                raise ValidationFailed.one(
                    "at",
                    f"{command.sku} has a movement dated {last.isoformat()}: a movement cannot be dated "
                    "before the last one of its sku",
                    code="out_of_order",
                )
            at = command.at
        movement = replace(probe, at=at)
        position = position_from(locations.values(), figures)
        try:
            if reserved_issue:
                position.apply_reserved_issue(movement)
            else:
                position.apply(movement)
        except InsufficientStock as exc:
            raise insufficient(exc) from exc
        except InvalidField as exc:
            raise invalid(exc) from exc
        if movement.lot is not None and movement.type is MovementType.RECEIPT:
            await repo.ensure_lot(session, movement.sku, movement.lot, at, command.expiry)
        after = {key: BalanceFigures(position.on_hand(key), position.reserved(key)) for key in figures}

        # valuation: FIFO layers, weighted average, purchase price variance against standard
        loaded: dict[int, tuple[int, Decimal]] = {}
        fifo = FifoCost(last_cost=cost.fifo_last_cost)
        for row in state.layers:
            layer = CostLayer(row.at, row.qty, row.unit_cost)
            (fifo.shortfall if row.shortfall else fifo.layers).append(layer)
            loaded[id(layer)] = (row.id, row.qty)
        average = AverageCost(qty=cost.qty, value=cost.avg_value, avg=cost.avg_cost)
        fifo_book = Valuation(CostMethod.FIFO)
        fifo_book.items[movement.sku] = fifo
        avg_book = Valuation(CostMethod.AVERAGE)
        avg_book.items[movement.sku] = average
        fifo_posting = fifo_book.post(movement)
        avg_posting = avg_book.post(movement)
        ppv = ZERO
        standard = repo.standard_cost_of(item)
        if standard is not None and movement.type is MovementType.RECEIPT:
            std_book = Valuation(CostMethod.STANDARD, {movement.sku: standard})
            std_book.items[movement.sku] = StandardCost(to_unit_cost(standard), qty=cost.qty)
            ppv = std_book.post(movement).ppv
        kept: set[int] = set()
        new_layers: list[repo.NewLayer] = []
        changed_layers: list[tuple[int, Decimal]] = []
        for shortfall, layers in ((False, fifo.layers), (True, fifo.shortfall)):
            for layer in layers:
                known = loaded.get(id(layer))
                if known is None:
                    new_layers.append(repo.NewLayer(shortfall, layer.at, layer.qty, layer.unit_cost))
                    continue
                kept.add(id(layer))
                if layer.qty != known[1]:
                    changed_layers.append((known[0], layer.qty))
        deleted_layers = [db_id for key, (db_id, _) in loaded.items() if key not in kept]
        qty_after = cost.qty + (movement.qty if movement.type is not MovementType.TRANSFER else ZERO) * (
            -1 if movement.type in (MovementType.ISSUE, MovementType.SCRAP) else 1
        )
        ppv_total = cost.ppv_total + ppv
        fifo_value_after = cost.fifo_value + fifo_posting.value
        cost_after = repo.CostState(
            qty=qty_after,
            fifo_value=fifo_value_after,
            fifo_last_cost=fifo.last_cost,
            avg_value=average.value,
            avg_cost=average.avg,
            ppv_total=ppv_total,
            last_movement_at=at,
        )
        changes = {c.key: c.delta for c in balance_changes(movement)}
        delta = changes[movement.key]
        movement_id = str(uuid.uuid4())
        seq = await repo.write_booking(
            session,
            movement.sku,
            movement.lot,
            after,
            cost_after,
            deleted_layers=deleted_layers,
            changed_layers=changed_layers,
            new_layers=new_layers,
            movement={
                "id": movement_id,
                "type": movement.type.value,
                "sku": movement.sku,
                "qty": movement.qty,
                "delta": delta,
                "location": movement.location,
                "to_location": movement.to_location,
                "lot": db_lot(movement.lot),
                "unit_cost": movement.unit_cost,
                "reason": movement.reason,
                "reference": movement.reference,
                "reservation_id": reservation_id,
                "dedup_key": dedup_key,
                "at": at,
                "recorded_at": now,
                "fifo_value": fifo_posting.value,
                "fifo_cogs": fifo_posting.cogs + fifo_posting.price_difference,
                "avg_value": avg_posting.value,
                "avg_cogs": avg_posting.cogs + avg_posting.price_difference,
                "ppv": ppv,
                "sku_qty_after": qty_after,
                "fifo_value_after": fifo_value_after,
                "avg_value_after": average.value,
                "avg_cost_after": average.avg,
                "fifo_last_cost_after": fifo.last_cost,
                "ppv_total_after": ppv_total,
            },
        )
        balances = [
            BalanceAfter(key.sku, key.location, key.lot, changes.get(key, ZERO), fig.on_hand, fig.reserved)
            for key, fig in sorted(after.items(), key=lambda kv: kv[0] != movement.key)
        ]
        booked = BookedMovement(
            id=movement_id,
            seq=seq,
            movement=movement,
            recorded_at=now,
            fifo=fifo_posting,
            average=avg_posting,
            ppv=ppv,
            balances=balances,
            reservation_id=reservation_id,
        )
        self.emit(stock_changed(booked))
        return booked


async def record_movement(
    session: AsyncSession, emit: Emit, settings: InventorySettings, command: RecordMovement
) -> BookedMovement:
    return await Ledger(session, emit, settings).book(command)


# ------------------------------------------------------------------------------- locations, lots


async def lock_location(session: AsyncSession, code: str) -> Any:
    return (
        await session.execute(
            text(
                "SELECT code, name, kind, parent, nettable, allow_negative, version, created_at, updated_at "
                "FROM locations WHERE code = :c FOR UPDATE"
            ),
            {"c": code},
        )
    ).first()


async def put_location(
    session: AsyncSession,
    code: str,
    *,
    name: str,
    kind: str,
    parent: str | None,
    nettable: bool,
    allow_negative: bool,
    check: Callable[[int | None], None],
) -> tuple[Any, bool]:
    """Create or replace a location; ``check(current_version)`` applies If-Match. Returns (row, created)."""
    try:
        Location(code, name, parent=parent, nettable=nettable, allow_negative=allow_negative)
    except InvalidField as exc:
        raise invalid(exc) from exc
    current = await lock_location(session, code)
    check(current.version if current else None)
    if parent is not None and parent != code and not await repo.locations(session, [parent]):
        raise ValidationFailed.one("parent", f"unknown location {parent!r}", code="unknown")
    if current is None:
        await session.execute(
            text(
                "INSERT INTO locations (code, name, kind, parent, nettable, allow_negative) "
                "VALUES (:c, :n, :k, :p, :ne, :an)"
            ),
            {"c": code, "n": name, "k": kind, "p": parent, "ne": nettable, "an": allow_negative},
        )
    else:
        await session.execute(
            text(
                "UPDATE locations SET name = :n, kind = :k, parent = :p, nettable = :ne, "
                "allow_negative = :an, version = version + 1, updated_at = now() WHERE code = :c"
            ),
            {"c": code, "n": name, "k": kind, "p": parent, "ne": nettable, "an": allow_negative},
        )
    return await lock_location(session, code), current is None


async def put_lot(
    session: AsyncSession,
    sku: str,
    code: str,
    *,
    expiry: date | None,
    received_at: datetime | None,
    check: Callable[[int | None], None],
) -> tuple[Any, bool]:
    await require_items(session, [sku], field="path.sku")
    current = (
        await session.execute(
            text("SELECT version, received_at FROM lots WHERE sku = :s AND code = :c FOR UPDATE"),
            {"s": sku, "c": code},
        )
    ).first()
    check(current.version if current else None)
    if current is None:
        await session.execute(
            text("INSERT INTO lots (sku, code, received_at, expiry) VALUES (:s, :c, :r, :e)"),
            {"s": sku, "c": code, "r": received_at or utcnow(), "e": expiry},
        )
    else:
        await session.execute(
            text(
                "UPDATE lots SET expiry = :e, received_at = COALESCE(:r, received_at), "
                "version = version + 1, updated_at = now() WHERE sku = :s AND code = :c"
            ),
            {"s": sku, "c": code, "r": received_at, "e": expiry},
        )
    row = await get_lot(session, sku, code)
    return row, current is None


async def get_lot(session: AsyncSession, sku: str, code: str) -> Any:
    return (
        await session.execute(
            text(
                "SELECT sku, code, received_at, expiry, version, created_at, updated_at FROM lots "
                "WHERE sku = :s AND code = :c"
            ),
            {"s": sku, "c": code},
        )
    ).first()


# ------------------------------------------------------------------------------- reservations


@dataclass(slots=True)
class ReservationView:
    id: str
    order: str
    sku: str
    policy: str
    requested: Decimal
    reserved: Decimal
    consumed: Decimal
    released: Decimal
    status: str
    created_at: datetime
    lines: list[dict[str, Any]] = field(default_factory=list)
    movements: list[str] = field(default_factory=list)

    @property
    def held(self) -> Decimal:
        return sum((line["qty"] for line in self.lines), ZERO)


def _view(row: Any, lines: Sequence[Any]) -> ReservationView:
    return ReservationView(
        id=row.id,
        order=row.order_ref,
        sku=row.sku,
        policy=row.policy,
        requested=row.requested,
        reserved=row.reserved,
        consumed=row.consumed,
        released=row.released,
        status=row.status,
        created_at=row.created_at,
        lines=[{"location": ln.location, "lot": api_lot(ln.lot), "qty": ln.qty} for ln in lines],
    )


async def get_reservation(session: AsyncSession, reservation_id: str) -> ReservationView:
    row = await repo.reservation(session, reservation_id)
    if row is None:
        raise NotFound(f"no reservation {reservation_id!r}")
    lines = await repo.reservation_lines(session, [reservation_id])
    return _view(row, lines[reservation_id])


def _reservation_data(view: ReservationView, **extra: Any) -> dict[str, Any]:
    return {
        "reservation_id": view.id,
        "order": view.order,
        "sku": view.sku,
        "requested": str(view.requested),
        "reserved": str(view.reserved),
        "held": str(view.held),
        "lines": [{**ln, "qty": str(ln["qty"])} for ln in view.lines],
        **extra,
    }


async def create_reservation(
    session: AsyncSession,
    emit: Emit,
    *,
    order: str,
    sku: str,
    qty: Decimal,
    policy: res_domain.AllocationPolicy,
    allow_partial: bool = False,
    location: str | None = None,
    on: date | None = None,
    dedup_key: str | None = None,
) -> tuple[ReservationView | None, Decimal]:
    """Reserve ``qty`` of ``sku`` for ``order``; returns the reservation (None when nothing could be
    reserved with ``allow_partial``) and the quantity missing."""
    if qty <= 0:
        raise ValidationFailed.one("qty", "a reservation needs a quantity greater than zero")
    await require_items(session, [sku])
    if location is not None and not await repo.locations(session, [location]):
        raise ValidationFailed.one("location", f"unknown location {location!r}", code="unknown")
    figures = await repo.lock_balances_of_sku(session, sku)
    if location is not None:
        figures = {k: v for k, v in figures.items() if k.location == location}
    locations = await repo.locations(session, {k.location for k in figures})
    position = position_from(locations.values(), figures)
    lots = await repo.lots_of(session, sku)
    reservation_id = str(uuid.uuid4())
    try:
        reservation = res_domain.reserve(
            position,
            reservation_id=reservation_id,
            order=order,
            sku=sku,
            qty=qty,
            lots=lots,
            on=on or utcnow().date(),
            policy=policy,
            allow_partial=allow_partial,
        )
    except InsufficientStock as exc:
        raise insufficient(exc) from exc
    except InvalidField as exc:
        raise invalid(exc) from exc
    held = reservation.qty
    missing = qty - held
    if held == 0:
        if not allow_partial:
            raise insufficient(InsufficientStock(sku, location, None, qty, ZERO))
        return None, missing
    await repo.write_balances(
        session, {k: BalanceFigures(position.on_hand(k), position.reserved(k)) for k in figures}
    )
    await repo.insert_reservation(
        session,
        {
            "id": reservation_id,
            "order_ref": order,
            "sku": sku,
            "policy": policy.value,
            "requested": qty,
            "reserved": held,
            "status": "open",
            "dedup_key": dedup_key,
        },
    )
    await repo.replace_reservation_lines(
        session, reservation_id, [(ln.key.location, ln.key.lot, ln.qty) for ln in reservation.lines]
    )
    view = await get_reservation(session, reservation_id)
    emit(new_event("inventory", "reservation", "created", _reservation_data(view), subject=order))
    return view, missing


def _domain_reservation(view: ReservationView) -> res_domain.Reservation:
    return res_domain.Reservation(
        view.id,
        view.order,
        view.sku,
        [
            res_domain.ReservationLine(StockKey(view.sku, ln["location"], ln["lot"]), ln["qty"])
            for ln in view.lines
        ],
    )


async def _locked_reservation(session: AsyncSession, reservation_id: str) -> ReservationView:
    row = await repo.reservation(session, reservation_id, lock=True)
    if row is None:
        raise NotFound(f"no reservation {reservation_id!r}")
    lines = await repo.reservation_lines(session, [reservation_id])
    return _view(row, lines[reservation_id])


def _status(held: Decimal, consumed: Decimal) -> str:
    if held > 0:
        return "open"
    return "consumed" if consumed > 0 else "released"


async def release_reservation(
    session: AsyncSession, emit: Emit, reservation_id: str, qty: Decimal | None = None
) -> ReservationView:
    view = await _locked_reservation(session, reservation_id)
    if view.status != "open":
        raise Conflict(f"reservation {reservation_id} is {view.status}: nothing to release")
    keys = [StockKey(view.sku, ln["location"], ln["lot"]) for ln in view.lines]
    figures = await repo.lock_balances(session, keys)
    locations = await repo.locations(session, {k.location for k in keys})
    position = position_from(locations.values(), figures)
    reservation = _domain_reservation(view)
    try:
        released = res_domain.release(position, reservation, qty)
    except (ReservationError, InventoryError) as exc:
        raise ValidationFailed.one("qty", str(exc)) from exc
    await repo.write_balances(
        session, {k: BalanceFigures(position.on_hand(k), position.reserved(k)) for k in figures}
    )
    await repo.replace_reservation_lines(
        session, view.id, [(ln.key.location, ln.key.lot, ln.qty) for ln in reservation.lines]
    )
    released_qty = sum((ln.qty for ln in released), ZERO)
    await repo.update_reservation(
        session,
        view.id,
        consumed=view.consumed,
        released=view.released + released_qty,
        status=_status(reservation.qty, view.consumed),
    )
    after = await get_reservation(session, view.id)
    emit(
        new_event(
            "inventory",
            "reservation",
            "released",
            _reservation_data(after, qty=str(released_qty)),
            subject=view.order,
        )
    )
    return after


async def consume_reservation(
    session: AsyncSession,
    emit: Emit,
    settings: InventorySettings,
    reservation_id: str,
    qty: Decimal | None = None,
    *,
    reference: str | None = None,
) -> ReservationView:
    """Issue ``qty`` (default: all that is held) of the reservation, first-chosen stock first."""
    view = await _locked_reservation(session, reservation_id)
    if view.status != "open":
        raise Conflict(f"reservation {reservation_id} is {view.status}: nothing to consume")
    keys = [StockKey(view.sku, ln["location"], ln["lot"]) for ln in view.lines]
    figures = await repo.lock_balances(session, keys)
    locations = await repo.locations(session, {k.location for k in keys})
    position = position_from(locations.values(), figures)
    reservation = _domain_reservation(view)
    try:
        issues = res_domain.consume(
            position, reservation, at=utcnow(), qty=qty, reference=reference or view.order
        )
    except ReservationError as exc:
        raise ValidationFailed.one("qty", str(exc)) from exc
    except InsufficientStock as exc:
        raise insufficient(exc) from exc
    ledger = Ledger(session, emit, settings)
    item = (await require_items(session, [view.sku]))[view.sku]
    booked = []
    for issue in issues:
        booked.append(
            await ledger.book(
                RecordMovement(
                    type=MovementType.ISSUE,
                    sku=issue.sku,
                    qty=issue.qty,
                    location=issue.location,
                    lot=issue.lot,
                    reference=issue.reference,
                ),
                reserved_issue=True,
                reservation_id=view.id,
                item=item,
            )
        )
    consumed_qty = sum((m.qty for m in issues), ZERO)
    await repo.replace_reservation_lines(
        session, view.id, [(ln.key.location, ln.key.lot, ln.qty) for ln in reservation.lines]
    )
    await repo.update_reservation(
        session,
        view.id,
        consumed=view.consumed + consumed_qty,
        released=view.released,
        status=_status(reservation.qty, view.consumed + consumed_qty),
    )
    after = await get_reservation(session, view.id)
    after.movements = [b.id for b in booked]
    emit(
        new_event(
            "inventory",
            "reservation",
            "consumed",
            _reservation_data(after, qty=str(consumed_qty), movements=after.movements),
            subject=view.order,
        )
    )
    return after


async def pick_list(session: AsyncSession, order: str) -> list[res_domain.PickLine]:
    rows = await repo.reservations_of_order(session, order, open_only=True)
    lines = await repo.reservation_lines(session, [r.id for r in rows])
    reservations = [_domain_reservation(_view(r, lines[r.id])) for r in rows]
    return res_domain.pick_list(reservations, order)


# ------------------------------------------------------------------------------- valuation


@dataclass(frozen=True, slots=True)
class ItemValuation:
    sku: str
    qty: Decimal
    unit_cost: Decimal
    value: Decimal
    purchase_price_variance: Decimal | None = None


def as_of_cutoff(as_of: date | datetime | None) -> datetime | None:
    """The exclusive upper bound of ``as_of`` (inclusive): a date covers its whole UTC day."""
    if as_of is None:
        return None
    if isinstance(as_of, datetime):
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        return as_of + timedelta(microseconds=1)
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) + timedelta(days=1)


async def valuation(
    session: AsyncSession, method: CostMethod, *, as_of: date | datetime | None, sku: str | None
) -> tuple[list[ItemValuation], Decimal, list[str]]:
    """Value per sku and total under ``method``; the skus without a standard cost (standard only)."""
    rows = await repo.item_values(session, sku=sku, before=as_of_cutoff(as_of))
    items: list[ItemValuation] = []
    missing: list[str] = []
    standards: dict[str, Decimal] = {}
    if method is CostMethod.STANDARD:
        standards = await repo.standard_costs(session, [sku] if sku else None)
    for r in rows:
        qty = Decimal(r.qty)
        if method is CostMethod.FIFO:
            value = Decimal(r.fifo_value)
            if qty == 0 and value == 0:
                continue
            unit = to_unit_cost(value / qty) if qty != 0 else (r.fifo_last_cost or ZERO)
            items.append(ItemValuation(r.sku, qty, unit, value))
        elif method is CostMethod.AVERAGE:
            value = Decimal(r.avg_value)
            if qty == 0 and value == 0:
                continue
            items.append(ItemValuation(r.sku, qty, Decimal(r.avg_cost), value))
        else:
            if qty == 0:
                continue
            std = standards.get(r.sku)
            if std is None:
                missing.append(r.sku)
                std = ZERO
            std = to_unit_cost(std)
            items.append(ItemValuation(r.sku, qty, std, to_cents(qty * std), Decimal(r.ppv_total)))
    total = sum((i.value for i in items), ZERO)
    return items, total, missing


# ------------------------------------------------------------------------------- ABC, counts


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AbcResult:
    line: abc_domain.AbcLine
    issued_qty: Decimal
    unit_cost: Decimal


async def abc(session: AsyncSession, *, start: date, end: date, a: Decimal, b: Decimal) -> list[AbcResult]:
    """ABC classes by consumption value: quantity issued from ``start`` to ``end`` (inclusive) x the
    item's standard cost (its weighted average cost when master data has none). Items in stock
    without consumption are class C."""
    try:
        thresholds = abc_domain.AbcThresholds(a, b)
    except ValueError as exc:
        raise ValidationFailed(
            [FieldError(field="query.a", message=str(exc)), FieldError(field="query.b", message=str(exc))]
        ) from exc
    issued = await repo.issued_qty(session, _day_start(start), _day_start(end) + timedelta(days=1))
    skus = sorted(set(issued) | set(await repo.skus_in_stock(session)))
    standards = await repo.standard_costs(session, skus)
    averages = {r.sku: Decimal(r.avg_cost) for r in await repo.item_values(session, sku=None, before=None)}
    unit_costs = {s: standards.get(s, averages.get(s, ZERO)) for s in skus}
    values = {s: to_cents(issued.get(s, ZERO) * unit_costs[s]) for s in skus}
    lines = abc_domain.classify_abc(values, thresholds)
    return [AbcResult(line, issued.get(line.sku, ZERO), unit_costs[line.sku]) for line in lines]


def cycle_months(settings: InventorySettings) -> dict[str, int]:
    return {"A": settings.cycle_months_a, "B": settings.cycle_months_b, "C": settings.cycle_months_c}


async def counts_due(
    session: AsyncSession, settings: InventorySettings, on: date
) -> list[counts_domain.DueCount]:
    """Items in stock due for a cycle count on ``on``, their class from the ABC of the year before."""
    classes = {
        r.line.sku: r.line.abc_class
        for r in await abc(
            session, start=on - timedelta(days=365), end=on, a=settings.abc_a, b=settings.abc_b
        )
    }
    last = await repo.last_counted(session)
    items = [
        counts_domain.CycleCountItem(sku, classes.get(sku, "C"), last.get(sku))
        for sku in await repo.skus_in_stock(session)
    ]
    return counts_domain.cycle_counts_due(items, on, cycle_months(settings))


async def open_count(
    session: AsyncSession,
    settings: InventorySettings,
    *,
    kind: str,
    location: str | None,
    skus: list[str] | None,
    reason: str | None,
) -> str:
    if location is not None and not await repo.locations(session, [location]):
        raise ValidationFailed.one("location", f"unknown location {location!r}", code="unknown")
    if skus:
        await require_items(session, skus, field="skus")
    if kind == "cycle" and not skus:
        skus = [d.sku for d in await counts_due(session, settings, utcnow().date())]
    count_id = str(uuid.uuid4())
    now = utcnow()
    rows = await repo.balances(session, location=location)
    wanted = set(skus) if skus is not None else None
    await session.execute(
        text(
            "INSERT INTO counts (id, kind, status, location, skus, reason, snapshot_at) "
            "VALUES (:i, :k, 'open', :l, :s, :r, :at)"
        ),
        {
            "i": count_id,
            "k": kind,
            "l": location,
            "s": skus,
            "r": reason or f"{kind} count",
            "at": now,
        },
    )
    for r in rows:
        if r.on_hand == 0 or (wanted is not None and r.sku not in wanted):
            continue
        await session.execute(
            text(
                "INSERT INTO count_lines (count_id, sku, location, lot, expected) "
                "VALUES (:i, :s, :l, :lot, :e)"
            ),
            {"i": count_id, "s": r.sku, "l": r.location, "lot": r.lot, "e": r.on_hand},
        )
    return count_id


async def _sheet(session: AsyncSession, count_id: str, *, lock: bool = False) -> tuple[Any, Any]:
    row = await repo.count(session, count_id, lock=lock)
    if row is None:
        raise NotFound(f"no count {count_id!r}")
    lines = await repo.count_lines(session, count_id)
    sheet = counts_domain.CountSheet(
        row.id,
        row.snapshot_at,
        {
            StockKey(ln.sku, ln.location, api_lot(ln.lot)): counts_domain.CountLine(
                StockKey(ln.sku, ln.location, api_lot(ln.lot)), ln.expected, ln.counted
            )
            for ln in lines
        },
        posted=row.status == "posted",
    )
    return row, sheet


async def record_count_lines(
    session: AsyncSession, count_id: str, lines: Sequence[tuple[str, str, str | None, Decimal]]
) -> None:
    row, sheet = await _sheet(session, count_id, lock=True)
    if row.status != "open":
        raise Conflict(f"count {count_id} is {row.status}: lines can no longer be recorded")
    await require_items(session, {ln[0] for ln in lines}, field="lines.sku")
    known = await repo.locations(session, {ln[1] for ln in lines})
    errors = [
        FieldError(field=f"lines[{i}].location", message=f"unknown location {ln[1]!r}", code="unknown")
        for i, ln in enumerate(lines)
        if ln[1] not in known
    ]
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    for i, (sku, location, lot, counted) in enumerate(lines):
        try:
            line = sheet.record(StockKey(sku, location, lot or None), counted)
        except InvalidField as exc:
            raise invalid(exc, f"lines[{i}].") from exc
        await session.execute(
            text(
                "INSERT INTO count_lines (count_id, sku, location, lot, expected, counted, counted_at) "
                "VALUES (:i, :s, :l, :lot, :e, :c, :at) ON CONFLICT (count_id, sku, location, lot) "
                "DO UPDATE SET counted = excluded.counted, counted_at = excluded.counted_at"
            ),
            {
                "i": count_id,
                "s": sku,
                "l": location,
                "lot": db_lot(lot),
                "e": line.expected,
                "c": counted,
                "at": now,
            },
        )


async def post_count(
    session: AsyncSession,
    emit: Emit,
    settings: InventorySettings,
    count_id: str,
    *,
    tolerance_qty: Decimal,
    tolerance_ratio: Decimal,
) -> list[BookedMovement]:
    row, sheet = await _sheet(session, count_id, lock=True)
    if row.status != "open":
        raise Conflict(f"count {count_id} is already {row.status}")
    adjustments = counts_domain.post_count(sheet, at=utcnow(), reason=row.reason)
    await repo.lock_balances(session, [m.key for m in adjustments])
    ledger = Ledger(session, emit, settings)
    items = await require_items(session, {m.sku for m in adjustments})
    booked = [
        await ledger.book(
            RecordMovement(
                type=MovementType.ADJUSTMENT,
                sku=m.sku,
                qty=m.qty,
                location=m.location,
                lot=m.lot,
                reason=m.reason,
                reference=m.reference,
            ),
            item=items[m.sku],
        )
        for m in adjustments
    ]
    await session.execute(
        text(
            "UPDATE counts SET status = 'posted', posted_at = now(), tolerance_qty = :tq, "
            "tolerance_ratio = :tr WHERE id = :i"
        ),
        {"tq": tolerance_qty, "tr": tolerance_ratio, "i": count_id},
    )
    return booked


async def count_view(session: AsyncSession, count_id: str) -> tuple[Any, Any, counts_domain.Accuracy]:
    row, sheet = await _sheet(session, count_id)
    accuracy = counts_domain.stock_accuracy(
        sheet.lines.values(), tolerance_qty=row.tolerance_qty, tolerance_ratio=row.tolerance_ratio
    )
    return row, sheet, accuracy


# ------------------------------------------------------------------------------- reorder, KPIs


async def reorder_parameters(
    session: AsyncSession,
    settings: InventorySettings,
    sku: str,
    *,
    service_level: Decimal | None,
    lead_time_days: Decimal | None,
    period_days: int,
    periods: int,
    on: date,
    quantum: Decimal,
) -> tuple[reorder_domain.ReorderParameters, list[Decimal], Decimal, Decimal]:
    """Safety stock and reorder point from the issues of the ``periods`` periods up to ``on``."""
    item = (await require_items(session, [sku], field="path.sku"))[sku]
    level = service_level if service_level is not None else settings.default_service_level
    lead = lead_time_days
    if lead is None and item.get("lead_time_days") is not None:
        lead = Decimal(str(item["lead_time_days"]))
    if lead is None:
        raise ValidationFailed.one(
            "query.lead_time_days", "master data gives no lead time for this item: pass lead_time_days"
        )
    start = _day_start(on) + timedelta(days=1) - timedelta(days=period_days * periods)
    demand = await repo.issued_by_bucket(session, sku, start, period_days, periods)
    try:
        figures = reorder_domain.reorder_parameters(demand, lead / period_days, level, quantum=quantum)
    except ValueError as exc:
        message = str(exc)
        field_name = "query.service_level" if "service level" in message else "query.periods"
        if "lead time" in message:
            field_name = "query.lead_time_days"
        raise ValidationFailed.one(field_name, message) from exc
    return figures, demand, level, lead


def _month_ends(start: date, end: date, limit: int = 24) -> list[date]:
    out: list[date] = []
    day = counts_domain.add_months(date(start.year, start.month, 1), 1) - timedelta(days=1)
    while day < end and len(out) < limit:
        out.append(day)
        day = counts_domain.add_months(day + timedelta(days=1), 1) - timedelta(days=1)
    return out


@dataclass(frozen=True, slots=True)
class Kpis:
    start: date
    end: date
    cogs: Decimal
    average_stock_value: Decimal
    stock_value: Decimal
    turnover: Decimal | None
    days_of_coverage: Decimal | None
    items: list[dict[str, Any]]
    ageing: list[reorder_domain.AgeingLine]


async def kpis(
    session: AsyncSession, settings: InventorySettings, *, start: date, end: date, sku: str | None
) -> Kpis:
    """Turnover (FIFO cost of goods issued / average stock value at the period's start, month ends
    and end), days of coverage (per sku by quantity, overall by value), dormant and obsolete stock."""
    if end < start:
        raise ValidationFailed.one("query.to", "the period ends before it starts")
    days = (end - start).days + 1
    end_excl = _day_start(end) + timedelta(days=1)
    total_cogs, _per_sku = await repo.cogs(session, _day_start(start), end_excl, sku)
    cutoffs = [_day_start(start)] + [_day_start(d) + timedelta(days=1) for d in _month_ends(start, end)]
    cutoffs.append(end_excl)
    values = []
    for cutoff in cutoffs:
        rows = await repo.item_values(session, sku=sku, before=cutoff)
        values.append(sum((Decimal(r.fifo_value) for r in rows), ZERO))
    average = reorder_domain.average_stock_value(values)
    issued = await repo.issued_qty(session, _day_start(start), end_excl)
    on_hand = await repo.on_hand_per_sku(session, sku)
    items = []
    for s in sorted(set(on_hand) | set(issued)):
        if sku is not None and s != sku:
            continue
        qty = on_hand.get(s, ZERO)
        demand = issued.get(s, ZERO)
        items.append(
            {
                "sku": s,
                "on_hand": qty,
                "issued": demand,
                "days_of_coverage": reorder_domain.days_of_coverage(qty, demand, days),
            }
        )
    last = await repo.last_movement_per_sku(session, end_excl)
    markers = [
        Movement(MovementType.RECEIPT, s, Decimal(1), "-", at, unit_cost=ZERO) for s, at in last.items()
    ]
    keys = {
        StockKey(r.sku, r.location, api_lot(r.lot)): Decimal(r.on_hand)
        for r in await repo.balances(session, sku=sku)
    }
    ageing = reorder_domain.stock_ageing(
        keys,
        markers,
        await repo.all_lots(session),
        on=end,
        dormant_days=settings.dormant_days,
        obsolete_days=settings.obsolete_days,
    )
    return Kpis(
        start=start,
        end=end,
        cogs=total_cogs,
        average_stock_value=average,
        stock_value=values[-1],
        turnover=reorder_domain.turnover(total_cogs, average),
        days_of_coverage=reorder_domain.days_of_coverage(values[-1], total_cogs, days),
        items=items,
        ageing=[a for a in ageing if a.status is not reorder_domain.StockStatus.ACTIVE],
    )
