"""The annotation page: log in, then one leased window at a time (htmx swaps the next one in without a reload).

Sessions are signed cookies (HttpOnly, SameSite=Strict); every form post carries the session's CSRF token (the
``X-CSRF-Token`` header htmx sends, or a ``csrf_token`` field); the login form uses a double-submit cookie.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from watchlake.annotate import accounts, checks, queue, service
from watchlake.annotate.app import Context
from watchlake.annotate.dependencies import Ctx, Db
from watchlake.annotate.queue import Lease
from watchlake.annotate.security import CSRF_FIELD, CSRF_HEADER, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Session
from watchlake.annotate.views import plot_data, window_summary
from watchlake.errors import AnnotationRefused

router = APIRouter()


def optional_session(request: Request, ctx: Ctx) -> Session | None:
    return ctx.signer.session_of(request.cookies.get(SESSION_COOKIE), ctx.clock())


def session(found: Annotated[Session | None, Depends(optional_session)]) -> Session:
    if found is None:
        raise AnnotationRefused(401, "no session: log in at /login")
    return found


async def form_of(request: Request) -> dict[str, Any]:
    return dict(await request.form())


Form = Annotated[dict[str, Any], Depends(form_of)]


def csrf_session(
    request: Request, ctx: Ctx, form: Form, who: Annotated[Session, Depends(session)]
) -> Session:
    """The session of a form post whose CSRF token matches it; 403 otherwise."""
    token = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    if not token:
        raise AnnotationRefused(
            403, f"missing CSRF token: send the page's {CSRF_HEADER} header or {CSRF_FIELD} field"
        )
    if not ctx.signer.csrf_ok(who.session_id, token):
        raise AnnotationRefused(403, "wrong CSRF token: reload the page")
    return who


Posting = Annotated[Session, Depends(csrf_session)]


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ctx: Ctx, error: str = "") -> Response:
    token = secrets.token_urlsafe(16)
    response = ctx.templates.TemplateResponse(request, "login.html", {"csrf": token, "error": error})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
def login(request: Request, ctx: Ctx, db: Db, form: Form) -> Response:
    sent, expected = form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)
    if not sent or not expected or not secrets.compare_digest(str(sent), expected):
        raise AnnotationRefused(403, "missing or wrong CSRF token on the login form: reload /login")
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    if not accounts.verify_password(db, ctx.schema, name, password):
        return RedirectResponse("/login?error=wrong+name+or+password", status_code=303)
    _, cookie = ctx.signer.new_session(name, ctx.clock())
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        max_age=round(ctx.settings.annotate.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(who: Posting) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def page(
    request: Request, ctx: Ctx, db: Db, found: Annotated[Session | None, Depends(optional_session)]
) -> Response:
    if found is None:
        return RedirectResponse("/login", status_code=303)
    values = _fragment_values(ctx, db, found, ctx.take_lease(db, found.annotator), "")
    return ctx.templates.TemplateResponse(request, "page.html", values)


@router.get("/ui/next", response_class=HTMLResponse)
def next_window(request: Request, ctx: Ctx, db: Db, who: Annotated[Session, Depends(session)]) -> Response:
    return _fragment(request, ctx, db, who, ctx.take_lease(db, who.annotator), "")


@router.post("/ui/label", response_class=HTMLResponse)
def label(request: Request, ctx: Ctx, db: Db, form: Form, who: Posting) -> Response:
    submitted = checks.label_request(form, ctx.settings.annotate.max_note_chars)
    recorded = ctx.submit_label(db, who.annotator, submitted)
    flash = f"labelled {recorded.label.label}" + (
        "" if recorded.pushed else " (feature store not reached yet)"
    )
    return _fragment(request, ctx, db, who, ctx.take_lease(db, who.annotator), flash)


@router.post("/ui/skip", response_class=HTMLResponse)
def skip(request: Request, ctx: Ctx, db: Db, form: Form, who: Posting) -> Response:
    lease_id = str(form.get("lease_id", ""))
    ctx.skip(db, who.annotator, lease_id)
    return _fragment(request, ctx, db, who, ctx.take_lease(db, who.annotator), "skipped")


@router.post("/ui/undo", response_class=HTMLResponse)
def undo(request: Request, ctx: Ctx, db: Db, form: Form, who: Posting) -> Response:
    """Undo the last label and show its window again (leased back when no one else took it meanwhile)."""
    submitted = checks.undo_request(form, ctx.settings.annotate.max_note_chars)
    now = ctx.clock()
    recorded, retracted = service.undo_last(db, ctx.schema, who.annotator, submitted, now=now, sink=ctx.sink)
    held = queue.open_lease_of(db, ctx.schema, who.annotator, now)
    if held is not None:  # given back unlabelled (not a skip: it may be offered to this annotator again)
        queue.end_lease(db, ctx.schema, held.lease_id, "returned", now)
        db.commit()
    undone = (recorded.label.device_id, recorded.label.window_start)
    lease = ctx.take_lease(db, who.annotator, undone) or ctx.take_lease(db, who.annotator)
    return _fragment(request, ctx, db, who, lease, f"undid {retracted}")


@router.get("/ui/readings")
def readings(
    ctx: Ctx, db: Db, device_id: str, window_start: datetime, who: Annotated[Session, Depends(session)]
) -> JSONResponse:
    """The plot's series of a queued window (10 Hz from Kafka, else the queue row's per-second signal)."""
    start = window_start.replace(tzinfo=None)
    window = queue.queued_window(db, ctx.schema, device_id, start)
    if window is None:
        raise AnnotationRefused(404, f"no queued window {device_id} at {window_start}")
    found = ctx.window_readings(device_id, start, window.window_end)
    return JSONResponse(plot_data(window, found))


def _fragment_values(ctx: Context, db: Any, who: Session, lease: Lease | None, flash: str) -> dict[str, Any]:
    return {
        "annotator": who.annotator,
        "csrf": ctx.signer.csrf_token(who.session_id),
        "lease": lease,
        "window": window_summary(lease.window) if lease else None,
        "label_id": uuid.uuid4().hex,
        "counts": queue.counts(db, ctx.schema, who.annotator, ctx.clock()),
        "upcoming": [
            window_summary(w)
            for w in queue.list_open(db, ctx.schema, ctx.settings.predict.confidence_measure, ctx.clock(), 5)
        ],
        "measure": ctx.settings.predict.confidence_measure,
        "flash": flash,
    }


def _fragment(
    request: Request, ctx: Context, db: Any, who: Session, lease: Lease | None, flash: str
) -> Response:
    return ctx.templates.TemplateResponse(
        request, "window.html", _fragment_values(ctx, db, who, lease, flash)
    )
