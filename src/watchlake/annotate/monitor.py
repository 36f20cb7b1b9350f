"""The monitoring page, ``/monitor``: the stream's and the annotators' figures from the warehouse and the champion's
from the registry; the figures fragment (``/monitor/figures``) is fetched again every ``monitor.refresh_seconds``
by htmx.

No login: unlike the annotation page, it writes nothing and shows no annotator's name or window, only counts and
percentiles; the app listens on loopback only, and the same figures are open to anyone on the machine through
``watchlake status``. An operator (or a container health check) reads it without an account.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from watchlake.annotate.dependencies import Ctx
from watchlake.monitor import view
from watchlake.monitor.snapshot import Snapshot, take_snapshot

router = APIRouter()


def _snapshot(ctx: Ctx) -> Snapshot:
    return take_snapshot(ctx.settings, ctx.connect, ctx.champion_reader(), ctx.clock())


def _values(snapshot: Snapshot, ctx: Ctx) -> dict[str, Any]:
    return {
        "s": snapshot,
        "f": snapshot.figures,
        "champion": snapshot.champion,
        "bins": view.confidence_rows(snapshot),
        "view": view,
        "refresh": ctx.settings.monitor.refresh_seconds,
        "most_labels": max((n for _, n in snapshot.figures.labels_per_hour), default=0)
        if snapshot.figures
        else 0,
    }


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(request: Request, ctx: Ctx) -> Response:
    return ctx.templates.TemplateResponse(request, "monitor.html", _values(_snapshot(ctx), ctx))


@router.get("/monitor/figures", response_class=HTMLResponse)
def monitor_figures(request: Request, ctx: Ctx) -> Response:
    return ctx.templates.TemplateResponse(request, "monitor_figures.html", _values(_snapshot(ctx), ctx))


@router.get("/monitor/figures.json")
def monitor_json(ctx: Ctx) -> JSONResponse:
    """The same figures as JSON (times as ISO strings)."""
    import json

    return JSONResponse(json.loads(json.dumps(_snapshot(ctx).to_dict(), default=str)))
