"""Progress of long work: a live rich bar on a terminal, a log line every few seconds everywhere else.

An Airflow task, an EMR step or CI captures stderr into a file, where a redrawn bar is noise; there the same
tracker logs its percentage, size and rate at most every ``log_every`` seconds. On a terminal, log records are
printed above the bar (the CLI's log handler writes through :data:`console`), so the bar stays at the bottom.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

log = logging.getLogger(__name__)


@functools.cache
def console() -> Console:
    """The one console of the process: bars and, on a terminal, log records (see watchlake.cli). rich is imported
    on first use, so commands that draw nothing do not pay for it."""
    from rich.console import Console

    return Console(stderr=True)


def live(on: Console | None = None) -> bool:
    """Whether bars are drawn: only on a terminal (not in a log file, a pipe or a dumb terminal)."""
    if on is not None:
        return on.is_terminal and not on.is_dumb_terminal
    return sys.stderr.isatty() and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


@dataclass
class Tracker:
    """Counts work done towards ``total`` (bytes or items); drawn as a bar or logged, see :func:`track`."""

    name: str
    total: float | None
    unit: str
    done: float = 0
    log_every: float = 2.0
    _bar: Progress | None = field(default=None, repr=False)
    _task: TaskID | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._start = self._last = time.monotonic()
        self._start_done = self.done

    def add(self, amount: float) -> None:
        self.done += amount
        self._show()

    def set(self, done: float, description: str | None = None) -> None:
        """Set the count outright (and the label), e.g. to the exact bytes of the files finished so far."""
        self.done = done
        if description is not None:
            self.name = description
        self._show()

    def _show(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done, description=self.name)
            return
        now = time.monotonic()
        if now - self._last >= self.log_every:
            self._last = now
            self.report()

    def report(self) -> None:
        """One log line: percent, amount and rate."""
        log.info("%s", self.line())

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = (self.done - self._start_done) / elapsed
        if self.unit == "bytes":
            amount = f"{self.done / 1e6:.1f}" + (f"/{self.total / 1e6:.1f}" if self.total else "") + " MB"
            speed = f"{rate / 1e6:.1f} MB/s"
        else:
            amount = f"{self.done:g}" + (f"/{self.total:g}" if self.total else "") + f" {self.unit}"
            speed = f"{rate:.1f} {self.unit}/s"
        share = f"{100.0 * self.done / self.total:5.1f}% " if self.total else ""
        return f"{self.name}: {share}{amount} at {speed}"


@contextmanager
def track(
    name: str,
    total: float | None,
    *,
    unit: str = "bytes",
    done: float = 0,
    logged: bool = True,
    on: Console | None = None,
) -> Iterator[Tracker]:
    """A tracker for one piece of long work; its bar (or final log line) is finished when the block ends.

    ``logged=False``: a bar on a terminal and no log lines elsewhere (for callers that print their own steps).
    """
    tracker = Tracker(name, total, unit, done=done, log_every=2.0 if logged else math.inf)
    if not live(on):
        try:
            yield tracker
        finally:
            if logged:
                tracker.report()
        return
    from rich.progress import Progress

    with Progress(*_columns(unit), console=on or console(), transient=False) as bar:
        tracker._bar = bar
        tracker._task = bar.add_task(name, total=total, completed=done)
        yield tracker


def _columns(unit: str) -> tuple[object, ...]:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    label = TextColumn("[progress.description]{task.description}")
    if unit == "bytes":
        return (label, BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    return (SpinnerColumn(), label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


class CountingReader:
    """A binary stream that adds every byte read to a tracker (a copy or an upload reads its source through it)."""

    def __init__(self, stream: BinaryIO, tracker: Tracker) -> None:
        self._stream = stream
        self._tracker = tracker

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self._tracker.add(len(chunk))
        return chunk
