"""GET /api/v1/indicators and the snapshots. Thin: each route calls the service
the CLI calls. Who may call them is decided elsewhere."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from analysis.output import records, to_csv, to_table
from server.deps import SessionDep, SettingsDep
from server.errors import InvalidInput
from server.indicators import service

router = APIRouter(prefix="/api/v1/indicators", tags=["indicators"])


class SnapshotRequest(BaseModel):
    period: list[str]
    level: str = "district"
    include_pending: bool = False


@router.get("")
def indicators(
    session: SessionDep,
    settings: SettingsDep,
    period: Annotated[list[str], Query()],
    level: str = "district",
    format: str = "json",
    include_pending: bool = False,
) -> Any:
    """Same parameters as ``trogiup indicators``; ``period`` may repeat. The
    suppression threshold is the deployment's, not the caller's."""
    if format not in ("json", "csv", "table"):
        raise InvalidInput(f"format {format!r}: choose json, csv or table")
    query = service.Query(tuple(period), level, include_pending)
    result = service.compute(
        session=session, query=query, threshold=settings.suppression_threshold
    )
    if format == "csv":
        return Response(
            to_csv(result.frame),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="indicators.csv"'},
        )
    if format == "table":
        return PlainTextResponse(to_table(result.frame))
    return {"indicators": records(result.frame), "warnings": result.warnings}


@router.post("/snapshots", status_code=201)
def create_snapshot(
    body: SnapshotRequest, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    query = service.Query(tuple(body.period), body.level, body.include_pending)
    snapshot = service.create_snapshot(
        session=session,
        query=query,
        threshold=settings.suppression_threshold,
        actor="api",
    )
    session.commit()
    return _summary(snapshot)


@router.get("/snapshots/{snapshot_id}")
def show_snapshot(snapshot_id: int, session: SessionDep) -> dict[str, Any]:
    snapshot = service.get_snapshot(session=session, snapshot_id=snapshot_id)
    return {
        **_summary(snapshot),
        "indicators": snapshot.results,
        "warnings": snapshot.warnings,
    }


@router.get("/snapshots/{snapshot_id}/submissions")
def snapshot_submissions(snapshot_id: int, session: SessionDep) -> dict[str, Any]:
    """The submission versions the snapshot read, with their review states."""
    snapshot = service.get_snapshot(session=session, snapshot_id=snapshot_id)
    frame = service.snapshot_submissions(snapshot)
    return {"submissions": records(frame)}


@router.get("/snapshots/{snapshot_id}/verify")
def verify_snapshot(snapshot_id: int, session: SessionDep) -> dict[str, Any]:
    return service.verify_snapshot(session=session, snapshot_id=snapshot_id)


def _summary(snapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "created_at": snapshot.created_at.isoformat(),
        "created_by": snapshot.created_by,
        "periods": snapshot.periods,
        "level": snapshot.level,
        "include_pending": snapshot.include_pending,
        "threshold": snapshot.threshold,
        "data_hash": snapshot.data_hash,
        "n_inputs": snapshot.n_inputs,
    }
