"""The JSON API beside the page (bearer tokens): list the queue, take a lease, label, skip, undo.

Every refusal answers with its HTTP status and ``{"error": "<what was wrong and what to do>"}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from watchlake.annotate import accounts, checks, queue, service
from watchlake.annotate.app import Context
from watchlake.annotate.dependencies import Ctx, Db
from watchlake.annotate.views import lease_summary, window_summary
from watchlake.errors import AnnotationRefused

router = APIRouter(prefix="/api")


def bearer(request: Request, ctx: Ctx, db: Db) -> str:
    """The annotator of the request's bearer token; 401 without one or with a wrong one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AnnotationRefused(
            401,
            "no bearer token: send 'Authorization: Bearer <token>' (make one: watchlake annotate add-token NAME)",
        )
    annotator = accounts.annotator_of_token(db, ctx.schema, token.strip())
    if annotator is None:
        raise AnnotationRefused(401, "wrong token: it is unknown or revoked")
    return annotator


Who = Annotated[str, Depends(bearer)]


async def _json(request: Request) -> Any:
    import orjson

    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise AnnotationRefused(400, "the body is not a JSON document") from None


@router.get("/queue")
def list_queue(ctx: Ctx, db: Db, who: Who, limit: int = 50) -> dict[str, Any]:
    """Open windows, most uncertain first (by predict.confidence_measure), and the counts."""
    now = ctx.clock()
    windows = queue.list_open(
        db, ctx.schema, ctx.settings.predict.confidence_measure, now, min(max(limit, 1), 500)
    )
    return {**queue.counts(db, ctx.schema, who, now), "windows": [window_summary(w) for w in windows]}


@router.post("/leases", response_model=None)
def take_lease(ctx: Ctx, db: Db, who: Who) -> Response | dict[str, Any]:
    """Lease the most uncertain open window (201), or 204 when none is left for this annotator."""
    lease = ctx.take_lease(db, who)
    if lease is None:
        return Response(status_code=204)
    return JSONResponse(lease_summary(lease), status_code=201)


@router.post("/leases/{lease_id}/skip")
def skip_lease(lease_id: str, ctx: Ctx, db: Db, who: Who) -> dict[str, Any]:
    """Give the lease back; the window returns to the queue for the other annotators."""
    ctx.skip(db, who, lease_id)
    return {"lease_id": lease_id, "outcome": "skipped"}


@router.post("/labels", status_code=201)
async def label(request: Request, ctx: Ctx, who: Who) -> dict[str, Any]:
    """Label the window of an open lease: ``{"label_id", "lease_id", "label", "note"}``."""
    submitted = checks.label_request(await _json(request), ctx.settings.annotate.max_note_chars)
    return await _in_thread(ctx, lambda db: _label(ctx, db, who, submitted))


@router.post("/undo", status_code=201)
async def undo(request: Request, ctx: Ctx, who: Who) -> dict[str, Any]:
    """Take back your newest label still in force: ``{"label_id", "note"}`` (label_id: the undo's own key)."""
    submitted = checks.undo_request(await _json(request), ctx.settings.annotate.max_note_chars)
    return await _in_thread(ctx, lambda db: _undo(ctx, db, who, submitted))


async def _in_thread(ctx: Context, work: Any) -> Any:
    """Run blocking warehouse work off the event loop, on a connection of its own."""
    from starlette.concurrency import run_in_threadpool

    def run() -> Any:
        for db in ctx.connection():
            return work(db)
        return None

    return await run_in_threadpool(run)


def _label(ctx: Context, db: Any, who: str, submitted: checks.LabelRequest) -> dict[str, Any]:
    recorded = ctx.submit_label(db, who, submitted)
    return {"label_id": recorded.label.label_id, "label": recorded.label.label, "pushed": recorded.pushed}


def _undo(ctx: Context, db: Any, who: str, submitted: checks.UndoRequest) -> dict[str, Any]:
    recorded, retracted = service.undo_last(db, ctx.schema, who, submitted, now=ctx.clock(), sink=ctx.sink)
    undo = recorded.label
    return {
        "label_id": undo.label_id,
        "retracted_label": retracted,
        "device_id": undo.device_id,
        "window_start": undo.window_start.isoformat(timespec="seconds") + "Z",
        "pushed": recorded.pushed,
    }
