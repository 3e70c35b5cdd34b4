"""``/v1/capacity/analyses``: load-versus-capacity analyses as jobs, their results and charts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from services.capacity import handlers
from services.capacity.api.schemas import (
    AnalysisAccepted,
    AnalysisCreate,
    AnalysisLinks,
    AnalysisList,
    AnalysisPublic,
    AnalysisStatusName,
    AnalysisTimings,
    AppliedProposal,
    BottleneckPublic,
    FirmRequest,
    FirmResult,
    LoadCellPublic,
    LoadList,
    OperationList,
    OperationPublic,
    OverloadList,
    OverloadPublic,
    ProposalList,
    ProposalPublic,
)
from services.capacity.db import repositories as repo
from services.capacity.db.tables import AnalysisRow, AnalysisStatus, LoadCellRow
from services.capacity.domain.load import utilisation_of
from services.capacity.settings import CapacitySettings
from shared.charts import LoadBucket, PngRendererMissing, load_chart_svg, load_overview_svg, svg_to_png
from shared.web.app import CORRELATION_HEADER, RuntimeDep, SessionDep, UowDep
from shared.web.idempotency import CLIENT_HEADER, IdempotencyDep
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import Conflict, NotFound, ServiceUnavailable, ValidationFailed

PREFIX = "/v1/capacity/analyses"
RowT = TypeVar("RowT")
PageDep = Annotated[PageParams, Depends(page_params)]
SVG = "image/svg+xml"
PNG = "image/png"


def analysis_url(analysis_id: str) -> str:
    return f"{PREFIX}/{analysis_id}"


def _json_util(load: float, capacity: float) -> float | None:
    u = utilisation_of(load, capacity)
    return None if u == float("inf") else u


def to_public(row: AnalysisRow) -> AnalysisPublic:
    url = analysis_url(row.id)
    return AnalysisPublic(
        id=row.id,
        status=row.status,
        progress=round(row.progress, 4),
        source=row.source,
        direction=row.direction,
        bucket=row.bucket,
        from_=row.from_date,
        to=row.to_date,
        overtime_factor=row.overtime_factor,
        parent=row.parent_id,
        applied=[
            AppliedProposal(analysis=a["analysis"], proposal=a["proposal"], kind=a["kind"])
            for a in row.applied
        ],
        counts=row.counts,
        timings=AnalysisTimings(
            queued_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            steps_s=row.timings,
        ),
        bottleneck=BottleneckPublic(**row.bottleneck) if row.bottleneck else None,
        warnings=row.warnings,
        error=row.error,
        links=AnalysisLinks(
            self=url,
            load=f"{url}/load",
            operations=f"{url}/operations",
            overloads=f"{url}/overloads",
            proposals=f"{url}/proposals",
            load_overview=f"{url}/load-overview.svg",
            firm=f"{url}/firm" if row.source.get("mrp_run") else None,
        ),
    )


def _settings(runtime: Any) -> CapacitySettings:
    settings = runtime.settings
    assert isinstance(settings, CapacitySettings)
    return settings


def _token(params: PageParams, *types: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    after = params.after()
    if after is None:
        return None
    try:
        if len(after) != len(types):
            raise ValueError("wrong length")
        return tuple(t(v) for t, v in zip(types, after, strict=True))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.one("query.page_token", "not a page token of this list") from exc


@dataclass(frozen=True, slots=True)
class _Keyset:
    """How a result list is ordered: the types of its page token's values, and a row's token."""

    types: tuple[Callable[[Any], Any], ...]
    of: Callable[[Any], list[Any]]


BY_BUCKET = _Keyset((str, date.fromisoformat), lambda r: [r.work_center, r.bucket_start.isoformat()])
BY_POSITION = _Keyset((int,), lambda r: [r.position])
BY_ID = _Keyset((int,), lambda r: [r.id])


async def _result_page(
    session: AsyncSession,
    analysis_id: str,
    page: PageParams,
    fetch: Callable[..., Awaitable[Sequence[RowT]]],
    keyset: _Keyset,
    **filters: Any,
) -> tuple[Sequence[RowT], str | None]:
    """One page of a finished analysis's results, read with ``fetch(session, analysis_id,
    **filters, after=, limit=)`` (a repository listing) one row beyond the page, so that the next
    page's token is given only when there is a next page."""
    await _finished(session, analysis_id)
    after = _token(page, *keyset.types)
    position = after if after is None or len(after) > 1 else after[0]
    rows = await fetch(session, analysis_id, **filters, after=position, limit=page.page_size + 1)
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return rows, encode_token(keyset.of(rows[-1])) if more and rows else None


async def _finished(session: AsyncSession, analysis_id: str) -> AnalysisRow:
    row = await repo.get_analysis(session, analysis_id)
    if row is None:
        raise NotFound(f"no analysis {analysis_id!r}")
    if row.status != AnalysisStatus.SUCCEEDED:
        raise Conflict(
            f"analysis {analysis_id} is {row.status}: its results are not there"
            + (f" ({row.error})" if row.error else ""),
            analysis_status=row.status,
        )
    return row


router = APIRouter(prefix=PREFIX, tags=["capacity"])

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"headers": {"Location": {"description": "The analysis", "schema": {"type": "string"}}}}
}


@router.post(
    "",
    status_code=202,
    operation_id="capacity_create_analysis",
    summary="Analyse load against capacity for an MRP run, the order book or given orders",
    description=(
        "Runs in the background: milestones both ways (slack), load per bucket in the chosen "
        "direction, overloads, bottleneck, costed proposals. Inline orders with an unknown sku, "
        "no routing or an unknown work center are not errors: the analysis leaves them out and "
        "lists them in its `warnings`."
    ),
    response_model=AnalysisAccepted,
    responses=_ACCEPTED,
)
async def create_analysis(
    body: AnalysisCreate, request: Request, uow: UowDep, runtime: RuntimeDep, idem: IdempotencyDep
) -> Response:
    inline = handlers.check_analysis(body, _settings(runtime))
    created: list[str] = []
    async with uow:

        async def work() -> AnalysisAccepted:
            row = await handlers.create_analysis(uow, body, inline, request.headers.get(CLIENT_HEADER))
            created.append(row.id)
            return AnalysisAccepted(id=row.id, status=row.status)

        response = await idem.execute(
            uow, work, status_code=202, headers=lambda r: {"Location": analysis_url(r.id)}
        )
    for analysis_id in created:
        request.app.state.capacity_runner.submit(analysis_id)
    return response


@router.get("", operation_id="capacity_list_analyses", summary="Analyses, newest first")
async def list_analyses(
    session: SessionDep,
    page: PageDep,
    status: Annotated[AnalysisStatusName | None, Query(description="Only analyses in this state")] = None,
) -> AnalysisList:
    after = _token(page, datetime.fromisoformat, str)
    rows = await repo.list_analyses(session, status=status, after=after, limit=page.page_size + 1)
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    token = encode_token([rows[-1].created_at.isoformat(), rows[-1].id]) if more and rows else None
    return AnalysisList(items=[to_public(r) for r in rows], next_page_token=token)


@router.get(
    "/{analysis_id}",
    operation_id="capacity_get_analysis",
    summary="An analysis: status, progress, timings, counts, bottleneck, warnings",
)
async def get_analysis(analysis_id: str, session: SessionDep) -> AnalysisPublic:
    row = await repo.get_analysis(session, analysis_id)
    if row is None:
        raise NotFound(f"no analysis {analysis_id!r}")
    return to_public(row)


def _cell(r: LoadCellRow) -> LoadCellPublic:
    return LoadCellPublic(
        work_center=r.work_center,
        bucket_start=r.bucket_start,
        load_minutes=r.load_minutes,
        capacity_minutes=r.capacity_minutes,
        utilisation=_json_util(r.load_minutes, r.capacity_minutes),
        overloaded=r.load_minutes > r.capacity_minutes + 1e-9,
    )


@router.get(
    "/{analysis_id}/load",
    operation_id="capacity_list_analysis_load",
    summary="Load against capacity per work center and bucket",
    description=(
        "Minutes. `utilisation` is load / capacity, 0 when both are 0, and null when a bucket has "
        "load but no capacity (JSON has no infinity); such a bucket is `overloaded`."
    ),
)
async def list_load(
    analysis_id: str,
    session: SessionDep,
    page: PageDep,
    work_center: Annotated[str | None, Query(description="Only this work center")] = None,
) -> LoadList:
    rows, token = await _result_page(
        session, analysis_id, page, repo.list_load, BY_BUCKET, work_center=work_center
    )
    return LoadList(items=[_cell(r) for r in rows], next_page_token=token)


@router.get(
    "/{analysis_id}/operations",
    operation_id="capacity_list_analysis_operations",
    summary="Each operation's start and end milestones (both directions), minutes and slack",
)
async def list_operations(
    analysis_id: str,
    session: SessionDep,
    page: PageDep,
    order: Annotated[str | None, Query(description="Only this order")] = None,
    work_center: Annotated[str | None, Query(description="Only operations loading this work center")] = None,
) -> OperationList:
    rows, token = await _result_page(
        session,
        analysis_id,
        page,
        repo.list_operations,
        BY_POSITION,
        order_id=order,
        work_center=work_center,
    )
    return OperationList(
        items=[
            OperationPublic(
                order=r.order_id,
                sku=r.sku,
                seq=r.seq,
                quantity=r.quantity,
                work_center=r.work_center,
                machine=r.machine,
                start=r.start,
                end=r.end,
                minutes=r.minutes,
                working_minutes=r.working_minutes,
                earliest_start=r.earliest_start,
                earliest_end=r.earliest_end,
                latest_start=r.latest_start,
                latest_end=r.latest_end,
                slack_minutes=r.slack_minutes,
                order_slack_minutes=r.order_slack_minutes,
                change=r.change,
            )
            for r in rows
        ],
        next_page_token=token,
    )


@router.get(
    "/{analysis_id}/overloads",
    operation_id="capacity_list_analysis_overloads",
    summary="Overloaded buckets (load above capacity) and how many ways out each has",
)
async def list_overloads(
    analysis_id: str,
    session: SessionDep,
    page: PageDep,
    work_center: Annotated[str | None, Query(description="Only this work center")] = None,
) -> OverloadList:
    rows, token = await _result_page(
        session, analysis_id, page, repo.list_overloads, BY_BUCKET, work_center=work_center
    )
    url = analysis_url(analysis_id)
    return OverloadList(
        items=[
            OverloadPublic(
                work_center=r.work_center,
                bucket_start=r.bucket_start,
                load_minutes=r.load_minutes,
                capacity_minutes=r.capacity_minutes,
                gap_minutes=r.gap_minutes,
                utilisation=_json_util(r.load_minutes, r.capacity_minutes),
                proposals=r.proposals,
                proposals_url=f"{url}/proposals?work_center={r.work_center}&bucket_start={r.bucket_start.isoformat()}",
            )
            for r in rows
        ],
        next_page_token=token,
    )


@router.get(
    "/{analysis_id}/proposals",
    operation_id="capacity_list_analysis_proposals",
    summary="Costed, explained ways out of each overloaded bucket, ranked within the bucket",
    description=(
        "Kinds: `overtime` (minutes × hourly cost × overtime factor), `alternate` (the operation on "
        "an alternate work center with spare capacity: cost difference), `subcontract` (the "
        "preferred supplier's unit price × quantity, when a supplier supplies the order's sku), "
        "`move` (to the nearest bucket with room within the operation's slack: free). Rank 1 is "
        "the cheapest, then the one relieving more minutes."
    ),
)
async def list_proposals(
    analysis_id: str,
    session: SessionDep,
    page: PageDep,
    work_center: Annotated[str | None, Query()] = None,
    bucket_start: Annotated[date | None, Query()] = None,
    kind: Annotated[str | None, Query(description="overtime, alternate, subcontract or move")] = None,
) -> ProposalList:
    rows, token = await _result_page(
        session,
        analysis_id,
        page,
        repo.list_proposals,
        BY_ID,
        work_center=work_center,
        bucket_start=bucket_start,
        kind=kind,
    )
    url = analysis_url(analysis_id)
    return ProposalList(
        items=[
            ProposalPublic(
                id=r.id,
                work_center=r.work_center,
                bucket_start=r.bucket_start,
                rank=r.rank,
                kind=r.kind,
                cost=r.cost,
                gap_minutes=r.gap_minutes,
                relieved_minutes=r.relieved_minutes,
                closes_gap=r.closes_gap,
                explanation=r.explanation,
                order=r.order_id,
                seq=r.seq,
                target_work_center=r.target_work_center,
                target_bucket_start=r.target_bucket_start,
                edits=r.edits,
                apply_url=f"{url}/proposals/{r.id}/apply",
            )
            for r in rows
        ],
        next_page_token=token,
    )


@router.post(
    "/{analysis_id}/proposals/{proposal_id}/apply",
    status_code=202,
    operation_id="capacity_apply_proposal",
    summary="What-if: a new analysis whose load has the proposal applied (this one is kept as is)",
    response_model=AnalysisAccepted,
    responses=_ACCEPTED,
)
async def apply_proposal(
    analysis_id: str, proposal_id: int, request: Request, uow: UowDep, idem: IdempotencyDep
) -> Response:
    created: list[str] = []
    async with uow:

        async def work() -> AnalysisAccepted:
            row = await handlers.apply_proposal(
                uow, analysis_id, proposal_id, request.headers.get(CLIENT_HEADER)
            )
            created.append(row.id)
            return AnalysisAccepted(id=row.id, status=row.status)

        response = await idem.execute(
            uow, work, status_code=202, headers=lambda r: {"Location": analysis_url(r.id)}
        )
    for child in created:
        request.app.state.capacity_runner.submit(child)
    return response


@router.post(
    "/{analysis_id}/firm",
    operation_id="capacity_firm_analysis_orders",
    summary="Firm the planned orders an analysis of an MRP run loaded (or the listed ones) in mrp's "
    "order book (Idempotency-Key)",
    description=(
        "For an analysis (or what-if) whose source is an MRP run: each planned order is firmed "
        "through mrp (`POST /v1/mrp/runs/{run}/planned-orders/{po}/firm`), and reported `firmed`, "
        "`already_firmed` (mrp answered 409: firm before) or `failed` (with mrp's status and "
        "detail). 409 problem while the analysis still has overloads, unless `force` is true. The "
        "orders are firmed as the run planned them: what-if edits are not carried over to mrp."
    ),
    response_model=FirmResult,
)
async def firm_analysis_orders(
    analysis_id: str,
    request: Request,
    uow: UowDep,
    runtime: RuntimeDep,
    idem: IdempotencyDep,
    body: FirmRequest | None = None,
) -> Response:
    firm = body or FirmRequest()
    async with uow:

        async def work() -> FirmResult:
            return await handlers.firm_orders(
                uow, _settings(runtime), analysis_id, firm, request.headers.get(CORRELATION_HEADER)
            )

        return await idem.execute(uow, work)


# -- charts -------------------------------------------------------------------------------------------


def _label(day: date, bucket: str) -> str:
    if bucket == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if bucket == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


async def _buckets(
    session: AsyncSession, row: AnalysisRow, work_center: str | None
) -> dict[str, list[LoadBucket]]:
    cells = await repo.list_load(session, row.id, work_center=work_center, after=None, limit=None)
    out: dict[str, list[LoadBucket]] = {}
    for c in cells:
        out.setdefault(c.work_center, []).append(
            LoadBucket(c.bucket_start, _label(c.bucket_start, row.bucket), c.load_minutes, c.capacity_minutes)
        )
    return out


_CHART_DOC = "Bars of load per bucket (red when overloaded) under the capacity step line"


@router.get(
    "/{analysis_id}/load-chart/{work_center}.svg",
    operation_id="capacity_get_load_chart_svg",
    summary="Load chart of one work center (SVG)",
    description=_CHART_DOC,
    response_class=Response,
    responses={200: {"content": {SVG: {}}}},
)
async def get_load_chart_svg(
    analysis_id: str,
    work_center: str,
    session: SessionDep,
    axis: Annotated[str, Query(pattern="^(hours|percent)$")] = "hours",
) -> Response:
    return Response(await _chart(session, analysis_id, work_center, axis), media_type=SVG)


@router.get(
    "/{analysis_id}/load-chart/{work_center}.png",
    operation_id="capacity_get_load_chart_png",
    summary="Load chart of one work center (PNG)",
    description=_CHART_DOC,
    response_class=Response,
    responses={200: {"content": {PNG: {}}}},
)
async def get_load_chart_png(
    analysis_id: str,
    work_center: str,
    session: SessionDep,
    axis: Annotated[str, Query(pattern="^(hours|percent)$")] = "hours",
    scale: Annotated[float, Query(gt=0, le=4)] = 1.0,
) -> Response:
    svg = await _chart(session, analysis_id, work_center, axis)
    try:
        png = svg_to_png(svg, scale=scale)
    except PngRendererMissing as exc:
        raise ServiceUnavailable(str(exc)) from exc
    return Response(png, media_type=PNG)


async def _chart(session: AsyncSession, analysis_id: str, work_center: str, axis: str) -> str:
    row = await _finished(session, analysis_id)
    buckets = (await _buckets(session, row, work_center)).get(work_center)
    if not buckets:
        raise NotFound(f"analysis {analysis_id} has no load on work center {work_center!r}")
    return load_chart_svg(work_center, buckets, axis="percent" if axis == "percent" else "hours")


@router.get(
    "/{analysis_id}/load-overview.svg",
    operation_id="capacity_get_load_overview_svg",
    summary="Utilisation heat map, work center × bucket (SVG)",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}},
)
async def get_load_overview_svg(
    analysis_id: str,
    session: SessionDep,
    work_center: Annotated[list[str] | None, Query(description="Only these work centers")] = None,
) -> Response:
    row = await _finished(session, analysis_id)
    rows = await _buckets(session, row, None)
    if work_center:
        rows = {code: b for code, b in rows.items() if code in set(work_center)}
    title = f"Load overview — analysis {analysis_id} ({row.direction}, {row.bucket})"
    return Response(load_overview_svg(rows, title=title), media_type=SVG)
