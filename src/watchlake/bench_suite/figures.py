"""Pure parts of ``watchlake bench``: read figures out of benchmark JSON, take medians, render the table."""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from watchlake.bench_suite.catalog import Bench, Figure

_STEP = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


def resolve(document: Any, path: str) -> Any:
    """The value at a dotted path (``a.b[0].c``); KeyError naming the path when a step is missing."""
    value = document
    for name, index in _STEP.findall(path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"{path}: no {name or f'[{index}]'} in the benchmark's JSON") from None
    return value


@dataclass(frozen=True)
class Row:
    """One figure of one benchmark: medians over its runs and their ratio (value / baseline)."""

    bench: str
    figure: str
    unit: str
    value: float | None
    baseline: float | None
    baseline_name: str
    ratio: float | None
    higher_is_better: bool
    target: float | None
    target_met: bool | None
    runs: int
    values: list[float | None]


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def row(bench: Bench, figure: Figure, documents: list[dict[str, Any]], runs: int | None = None) -> Row:
    """Medians of the figure and of its baseline over the runs; the ratio is the median of per-run ratios.

    ``runs``: the measurements behind the figure when the script repeats them itself (one document holds them)."""
    values = [resolve(document, figure.value) for document in documents]
    baselines = [resolve(document, figure.baseline) for document in documents] if figure.baseline else []
    ratios = [
        value / baseline
        for value, baseline in zip(values, baselines, strict=False)
        if value is not None and baseline
    ]
    ratio = _median(list(ratios)) if ratios else None
    met = None
    if ratio is not None and figure.target is not None:
        met = ratio >= figure.target if figure.higher_is_better else ratio <= figure.target
    return Row(
        bench.name,
        figure.name,
        figure.unit,
        _median(values),
        _median(baselines) if baselines else None,
        figure.baseline_name,
        ratio,
        figure.higher_is_better,
        figure.target,
        met,
        runs or len(documents),
        values,
    )


def rows_of(bench: Bench, documents: list[dict[str, Any]], runs: int | None = None) -> list[Row]:
    return [row(bench, figure, documents, runs) for figure in bench.figures]


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _ratio(item: Row) -> str:
    if item.ratio is None:
        return "-"
    better = "higher" if item.higher_is_better else "lower"
    target = ""
    if item.target is not None:
        sign = ">=" if item.higher_is_better else "<="
        target = f" (target {sign} {item.target:g}: {'met' if item.target_met else 'not met'})"
    return f"**{item.ratio:.2f}x** ({better} is better){target}"


def markdown(rows: list[Row], machine: dict[str, Any], *, quick: bool) -> str:
    """The table the README shows: each figure led by its ratio to the baseline measured in the same run."""
    head = (
        f"Measured {machine['finished']} on {machine['description']} (load average {machine['load_before']:.1f} "
        f"before, {machine['load_after']:.1f} after){'; --quick: small sizes, one run' if quick else ''}."
    )
    lines = [
        head,
        "",
        "| figure | ratio to baseline | watchlake | baseline | runs |",
        "|---|---|---:|---:|---:|",
    ]
    for item in rows:
        baseline = f"{_number(item.baseline)} ({item.baseline_name})" if item.baseline_name else "-"
        lines.append(
            f"| {item.figure} | {_ratio(item)} | {_number(item.value)} {item.unit} | {baseline} | {item.runs} |"
        )
    return "\n".join(lines) + "\n"


def as_json(
    rows: list[Row], machine: dict[str, Any], failures: dict[str, str], *, quick: bool
) -> dict[str, Any]:
    return {
        "machine": machine,
        "quick": quick,
        "figures": [asdict(item) for item in rows],
        "failed": failures,
    }
