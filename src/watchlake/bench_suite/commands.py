"""``watchlake bench``: run the benchmarks in fresh processes, as an Airflow task or an EMR step would meet them,
and write their figures (medians, led by the ratio to the baseline measured in the same run) as JSON and Markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import watchlake
from watchlake.bench_suite.catalog import BENCHES, Bench, bench_named
from watchlake.bench_suite.figures import Row, as_json, markdown, rows_of
from watchlake.commandline import add_command
from watchlake.errors import WatchlakeError
from watchlake.progress import track

_DESCRIPTION = f"""\
Run the project's benchmarks (bench/<name>/run.py) and tabulate them: {", ".join(b.name for b in BENCHES)}.
Each benchmark measures watchlake's path and a baseline in the same run (DuckDB for cleaning, Kafka's own
producer tool for generation, a Python UDF of the same forest for scoring, a no-op sink for prediction, random
sampling for active learning). Every run is a fresh process; a figure is the median over --runs runs (the
cleaning benchmark repeats inside its process: warm best-of-N and fresh-process median), led by its ratio to the
baseline. Writes <out>/summary.json and <out>/summary.md (the README's table), each run's JSON and log beside
them. A full run takes about an hour on 2 cores; --quick checks every path with small sizes in a few minutes.
Runs from a source checkout (bench/ is not in the wheel). Exit status 1 when a benchmark failed (the others still
run and are tabulated).
"""


class BenchError(WatchlakeError):
    pass


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "bench",
        _bench,
        help="run every benchmark with its baseline, write a JSON + Markdown table of medians",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one run each: every path in minutes"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[bench.name for bench in BENCHES],
        metavar="NAME",
        help=f"run only this benchmark (repeatable; one of {', '.join(b.name for b in BENCHES)})",
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="runs per benchmark, medians taken (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results folder (default bench/results in the checkout)"
    )


def checkout() -> Path:
    """The source checkout holding bench/ (watchlake installed editable from it)."""
    root = Path(watchlake.__file__).resolve().parents[2]
    if not all((root / "bench" / bench.name / "run.py").exists() for bench in BENCHES):
        raise BenchError(
            f"the benchmarks live in a source checkout's bench/ folder, and {root} has none; clone the repository "
            "and run scripts/setup.sh there"
        )
    return root


def _bench(args: argparse.Namespace) -> int:
    if args.runs is not None and args.runs < 1:
        raise BenchError(f"--runs must be at least 1, not {args.runs}")
    root = checkout()
    runs = args.runs or (1 if args.quick else 3)
    out = (args.out or root / "bench" / "results").resolve()
    out.mkdir(parents=True, exist_ok=True)
    chosen = [bench_named(name) for name in args.only] if args.only else list(BENCHES)
    machine = describe_machine()
    rows: list[Row] = []
    failures: dict[str, str] = {}
    processes = sum(1 if bench.repeat_option else runs for bench in chosen)
    with track("benchmarks", processes, unit="runs", logged=False) as progress:
        for bench in chosen:
            missing = [name for name in bench.needs if importlib.util.find_spec(name) is None]
            if missing:
                failures[bench.name] = f"needs {', '.join(missing)}: pip install -e '.[bench]'"
                print(f"bench {bench.name}: skipped, {failures[bench.name]}", flush=True)
                progress.add(1 if bench.repeat_option else runs)
                continue
            documents, failure = _run_bench(bench, root, out, runs, args.quick, progress)
            if failure:
                failures[bench.name] = failure
            if documents:
                rows.extend(rows_of(bench, documents, runs if bench.repeat_option else None))
    machine["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine["load_after"] = os.getloadavg()[0]
    table = markdown(rows, machine, quick=args.quick)
    (out / "summary.md").write_text(table, encoding="utf-8")
    (out / "summary.json").write_text(
        json.dumps(as_json(rows, machine, failures, quick=args.quick), indent=1) + "\n", encoding="utf-8"
    )
    print("\n" + table)
    for name, reason in failures.items():
        print(f"bench {name}: FAILED: {reason}", file=sys.stderr)
    print(f"results: {out / 'summary.md'}, {out / 'summary.json'}")
    return 1 if failures else 0


def _run_bench(
    bench: Bench, root: Path, out: Path, runs: int, quick: bool, progress: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """The bench's JSON documents, one per process run, and the first failure (with the log to read)."""
    base = list(bench.quick if quick else bench.full)
    plan = [[*base, bench.repeat_option, str(runs)]] if bench.repeat_option else [base] * runs
    documents = []
    for number, options in enumerate(plan, start=1):
        stem = f"{bench.name}.{number}"
        result, log_file = out / f"{stem}.json", out / f"{stem}.log"
        progress.set(progress.done, f"bench {bench.name} [{number}/{len(plan)}]")
        print(f"bench {bench.name}: run {number}/{len(plan)} (log {log_file})", flush=True)
        started = time.perf_counter()
        command = [sys.executable, "-m", bench.module, *options, "--out", str(result)]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        }
        with open(log_file, "w", encoding="utf-8") as log:
            done = subprocess.run(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        progress.add(1)
        seconds = time.perf_counter() - started
        if done.returncode != 0 or not result.exists():
            tail = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            return (
                documents,
                f"run {number} exited with {done.returncode} after {seconds:.0f} s ({log_file}): "
                + (" | ".join(tail)),
            )
        documents.append(json.loads(result.read_text(encoding="utf-8")))
        print(f"bench {bench.name}: run {number} done in {seconds:.0f} s", flush=True)
    return documents, None


def describe_machine() -> dict[str, Any]:
    """What the figures were measured on: CPU, cores, memory, Python, Java, and how busy the machine was."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, timeout=30
        ).stderr.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        java = "no java"
    description = (
        f"{cpu}, {os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {java}"
    )
    return {"description": description, "cores": os.cpu_count(), "load_before": os.getloadavg()[0]}
