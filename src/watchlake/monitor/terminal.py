"""The monitoring figures in the terminal (``watchlake status``), as rich tables: the same snapshot and the same
display values as the ``/monitor`` page."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from watchlake.monitor import view
from watchlake.monitor.snapshot import Snapshot


def print_snapshot(snapshot: Snapshot, console: Console) -> None:
    """The figures block; a source that could not be read is named with the reason instead."""
    console.print(f"\nfigures as of {snapshot.as_of.isoformat(sep=' ')} UTC")
    figures = snapshot.figures
    if figures is None:
        console.print(
            f"warehouse: not reachable, no stream figures ({snapshot.warehouse_problem})", markup=False
        )
    else:
        table = Table(title=None, show_header=True, header_style="bold")
        table.add_column("figure")
        table.add_column("value", justify="right")
        rates = f"last {view.span(figures.rate_seconds)}"
        window = f"last {view.span(figures.window_seconds)}"
        for name, value in (
            (f"messages in ({rates})", view.rate(figures.messages_per_second)),
            (f"windows scored ({rates})", view.rate(figures.windows_per_second)),
            (f"micro-batches ({window})", str(figures.batches)),
            ("micro-batch duration p50 / p95", view.percentiles(figures.batch_ms)),
            (f"predictions ({window})", str(figures.predictions)),
            ("event-to-row latency p50 / p95", view.percentiles(figures.latency_ms)),
            (f"older than the watermark ({window})", str(figures.older_than_watermark)),
            (f"dead letters ({window})", str(figures.dead_letter_total)),
            ("annotation queue (unlabelled)", str(figures.queue_depth)),
            ("labels this hour", str(figures.labels_per_hour[-1][1])),
            ("labels per hour (oldest first)", " ".join(str(n) for _, n in figures.labels_per_hour)),
        ):
            table.add_row(name, value)
        console.print(table)
        if figures.dead_letters:
            reasons = Table(show_header=True, header_style="bold")
            reasons.add_column("dead-letter reason")
            reasons.add_column("count", justify="right")
            for reason, count in figures.dead_letters:
                reasons.add_row(reason, str(count))
            console.print(reasons)
    _print_champion(snapshot, console)


def _print_champion(snapshot: Snapshot, console: Console) -> None:
    champion = snapshot.champion
    if champion is None:
        console.print(f"registry: not read ({snapshot.registry_problem})", markup=False)
        return
    if champion.version is None:
        console.print("champion: none yet (`watchlake train` makes one)")
        return
    drift = "-" if snapshot.drift is None else f"{snapshot.drift:.3f}"
    console.print(f"champion v{champion.version}; confidence drift from its held-out windows: {drift}")
    table = Table(show_header=True, header_style="bold")
    for column in ("since", "version", "macro-F1", "accuracy", "beat", "reason"):
        table.add_column(
            column, justify="right" if column in ("version", "macro-F1", "accuracy", "beat") else "left"
        )
    for change in reversed(champion.changes):
        table.add_row(
            change.at[:19].replace("T", " "),
            f"v{change.version}",
            view.metric(change.metrics, "macro_f1"),
            view.metric(change.metrics, "accuracy"),
            view.metric(change.replaced, "macro_f1"),
            change.reason,
        )
    console.print(table)
