"""A snapshot as display values (text and bar shares), shared by the ``/monitor`` page and ``watchlake status``
so both print a figure the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from watchlake.monitor.confidence import BINS, shares
from watchlake.monitor.figures import Percentiles
from watchlake.monitor.snapshot import Snapshot


def rate(value: float) -> str:
    return f"{value:.2f}/s"


def milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def percentiles(values: Percentiles | None) -> str:
    """``p50 / p95`` in milliseconds, or dashes."""
    if values is None:
        return "- / -"
    return f"{milliseconds(values.p50)} / {milliseconds(values.p95)}"


def span(seconds: int) -> str:
    return (
        f"{seconds // 3600} h"
        if seconds % 3600 == 0
        else f"{seconds // 60} min"
        if seconds % 60 == 0
        else f"{seconds} s"
    )


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def confidence_rows(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Per bin: its range, the recent count and share, the held-out share (None without one)."""
    recent = snapshot.figures.confidence if snapshot.figures else [0] * BINS
    heldout = snapshot.champion.heldout_confidence if snapshot.champion else None
    recent_shares = shares(recent)
    heldout_shares = shares(heldout) if heldout else [None] * BINS
    return [
        {
            "range": f"{index / BINS:.1f}-{(index + 1) / BINS:.1f}",
            "count": recent[index],
            "share": recent_shares[index],
            "heldout": heldout_shares[index],
        }
        for index in range(BINS)
    ]


def metric(values: dict[str, float], name: str) -> str:
    return f"{values[name]:.3f}" if name in values else "-"
