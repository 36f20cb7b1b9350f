"""The request dependencies the page and the JSON API share: the service context and a warehouse connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from watchlake.annotate.app import Context


def context(request: Request) -> Context:
    return request.app.state.ctx


Ctx = Annotated[Context, Depends(context)]


def connection(ctx: Ctx) -> Iterator[Any]:
    yield from ctx.connection()


Db = Annotated[Any, Depends(connection)]
