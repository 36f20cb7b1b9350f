"""The annotation web app: ``create_app(settings, ...)`` builds the FastAPI app of the page (``web``) and the JSON
API beside it (``api``); uvicorn serves it on ``annotate.host:port`` (loopback).

What it talks to is injected, so tests run it against the real warehouse with a sink they can read back:
``sink`` receives every accepted label and undo as :class:`WindowLabel` (default: the feature store's
``push_labels``), ``readings`` reads a window's messages back from Kafka, ``clock`` gives naive UTC now.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from watchlake.annotate import queue, service
from watchlake.annotate.checks import LabelRequest
from watchlake.annotate.readings import WindowReadings, read_window
from watchlake.annotate.security import Signer
from watchlake.annotate.service import LabelSink, Recorded
from watchlake.errors import AnnotationRefused
from watchlake.feature_store.records import WindowLabel
from watchlake.settings import Settings

log = logging.getLogger(__name__)

Readings = Callable[[str, datetime, datetime], WindowReadings | None]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def feature_store_sink(settings: Settings) -> LabelSink:
    """The default sink: ``watchlake.feature_store.push.push_labels(settings, labels)``, imported on first use
    (Feast takes seconds to import)."""

    def sink(labels: Sequence[WindowLabel]) -> None:
        from watchlake.feature_store.push import push_labels  # type: ignore[import-not-found,import-untyped,unused-ignore]

        push_labels(settings, list(labels))

    return sink


@dataclass
class Context:
    """What every route needs, kept on ``app.state.ctx``."""

    settings: Settings
    connect: Callable[[], Any]
    sink: LabelSink
    readings: Readings
    clock: Callable[[], datetime]
    signer: Signer
    templates: Jinja2Templates
    cache: OrderedDict[tuple[str, datetime], WindowReadings | None] = field(default_factory=OrderedDict)
    champion: Any = None  # the monitoring page's ChampionReader, made on first use

    def champion_reader(self) -> Any:
        """The registry reader of the monitoring page (one per app: it keeps the immutable version records)."""
        if self.champion is None:
            from watchlake.monitor.champion import ChampionReader
            from watchlake.registry.registry import ModelRegistry

            self.champion = ChampionReader(ModelRegistry.from_settings(self.settings))
        return self.champion

    @property
    def schema(self) -> str:
        return self.settings.warehouse.schema_name

    def connection(self) -> Iterator[Any]:
        connection = self.connect()
        try:
            yield connection
        finally:
            connection.close()

    # The queue operations the page and the JSON API both run, with this service's settings, clock and sink.

    def take_lease(
        self, db: Any, annotator: str, window: tuple[str, datetime] | None = None
    ) -> queue.Lease | None:
        """Lease the most uncertain open window (or ``window``, when it is open) to ``annotator``."""
        return queue.take_lease(
            db,
            self.schema,
            annotator,
            measure=self.settings.predict.confidence_measure,
            lease_seconds=self.settings.annotate.lease_seconds,
            now=self.clock(),
            window=window,
        )

    def submit_label(self, db: Any, annotator: str, submitted: LabelRequest) -> Recorded:
        return service.submit_label(
            db,
            self.schema,
            annotator,
            submitted,
            now=self.clock(),
            lease_seconds=self.settings.annotate.lease_seconds,
            sink=self.sink,
        )

    def skip(self, db: Any, annotator: str, lease_id: str) -> None:
        service.skip(
            db,
            self.schema,
            annotator,
            lease_id,
            now=self.clock(),
            lease_seconds=self.settings.annotate.lease_seconds,
        )

    def window_readings(self, device_id: str, start: datetime, end: datetime) -> WindowReadings | None:
        """A window's readings, remembered for the last 64 windows (an undo or a reload shows them again)."""
        key = (device_id, start)
        if key not in self.cache:
            self.cache[key] = self.readings(device_id, start, end)
            while len(self.cache) > 64:
                self.cache.popitem(last=False)
        return self.cache[key]


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413 before the app reads it (by its
    Content-Length, or while it streams in without one)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body larger than {self.limit} bytes (annotate.max_body_bytes)"
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await PlainTextResponse(message, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            event = await receive()
            seen += len(event.get("body", b""))
            if seen > self.limit:
                raise AnnotationRefused(413, message)
            return event

        await self.app(scope, counted, send)


def _refused(request: Request, error: AnnotationRefused) -> Any:
    if request.url.path.startswith("/api/"):
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return JSONResponse({"error": str(error)}, status_code=error.status, headers=headers)
    return PlainTextResponse(str(error), status_code=error.status)


def create_app(
    settings: Settings,
    *,
    sink: LabelSink | None = None,
    readings: Readings | None = None,
    clock: Callable[[], datetime] = utc_now,
    connect: Callable[[], Any] | None = None,
) -> FastAPI:
    """The app; makes the warehouse tables it needs when missing."""
    from watchlake.annotate import api, monitor, web
    from watchlake.warehouse.connection import connect as warehouse_connect
    from watchlake.warehouse.tables import ensure_tables

    opener = connect or (lambda: warehouse_connect(settings))
    first = opener()
    try:
        ensure_tables(first, settings.warehouse.schema_name)
    finally:
        first.close()
    package = resources.files("watchlake.annotate")
    ctx = Context(
        settings=settings,
        connect=opener,
        sink=sink or feature_store_sink(settings),
        readings=readings or (lambda device, start, end: read_window(settings, device, start, end)),
        clock=clock,
        signer=Signer(settings.annotate.session_secret.get_secret_value(), settings.annotate.session_hours),
        templates=Jinja2Templates(directory=str(package / "templates")),
    )
    app = FastAPI(
        title="watchlake annotate", docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None
    )
    app.state.ctx = ctx
    app.add_exception_handler(AnnotationRefused, _refused)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit, limit=settings.annotate.max_body_bytes)
    app.mount("/static", StaticFiles(directory=str(package / "static")), name="static")
    app.include_router(api.router)
    app.include_router(web.router)
    app.include_router(monitor.router)
    return app
