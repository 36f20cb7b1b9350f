"""Benchmark: the Spark clean job beside DuckDB doing the same cleaning on the same >= 1 GB of CASAS CSV.

Run ``python -m bench.clean.run`` (or ``python bench/clean/run.py``) from the repository root. Generates the data
with ``watchlake sample`` and stages it with ``watchlake ingest`` (reused on the next run when the size matches),
times both engines on 2 cores and writes ``bench/results/clean.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from bench.clean import duckdb_clean  # noqa: E402

from watchlake import jvm_archive_builder  # noqa: E402
from watchlake.settings import Settings, load_settings  # noqa: E402

log = logging.getLogger("bench.clean")
CORES = 2
MB_PER_PARTICIPANT_HOUR = 10.4  # CSV written by the sample generator, measured
PARTICIPANTS = 8


def bench_settings(workdir: Path) -> Settings:
    """Local settings for the benchmark: its own lake, local[2], no catalog (DuckDB registers nothing either)."""
    return load_settings(
        "local",
        runtime_dir=str(workdir / "runtime"),
        lake={"root": str(workdir / "lake")},
        spark={
            "master": f"local[{CORES}]",
            "shuffle_partitions": CORES,
            "ui_enabled": False,
            "driver_memory": "4g",
        },
        catalog={"kind": "none"},
    )


def prepare_data(settings: Settings, workdir: Path, gigabytes: float) -> dict[str, Any]:
    """Generate and stage about ``gigabytes`` of CSV, unless the same amount is already staged."""
    from watchlake.casas.sample import generate_sample
    from watchlake.ingest.job import run as ingest

    marker = workdir / "data.json"
    if marker.exists() and json.loads(marker.read_text())["gigabytes"] == gigabytes:
        return json.loads(marker.read_text())
    hours = round(gigabytes * 1000 / (PARTICIPANTS * MB_PER_PARTICIPANT_HOUR), 2)
    started = time.perf_counter()
    sample = generate_sample(workdir / "sample", PARTICIPANTS, hours, groups=2, seed=2026)
    ingest(settings, str(workdir / "sample"))
    planted = json.loads(sample.planted.read_text())["totals"]
    data = {"gigabytes": gigabytes, "hours": hours, "participants": PARTICIPANTS, "planted": planted}
    data["csv_bytes"] = sample.csv_bytes
    data["generate_and_stage_seconds"] = round(time.perf_counter() - started, 1)
    marker.write_text(json.dumps(data, indent=1))
    return data


def _jvm_cpu_seconds(spark: Any) -> float:
    """CPU seconds (user + system) the Spark driver JVM has used so far, from /proc (Linux)."""
    pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_spark(settings: Settings, repeat: int) -> dict[str, Any]:
    """Time the clean job (JVM start excluded, reported apart); the best of ``repeat`` runs."""
    from watchlake.clean import job
    from watchlake.spark import build_session

    started = time.perf_counter()
    spark = build_session(settings, "bench-clean")
    session_seconds = time.perf_counter() - started
    try:
        runs = []
        for _ in range(repeat):
            load, cpu = os.getloadavg()[0], _jvm_cpu_seconds(spark)
            result = job.run(settings, spark)
            cpu = round(_jvm_cpu_seconds(spark) - cpu, 1)
            runs.append(
                {"seconds": result.seconds, "cpu_seconds": cpu, "load_before": load, "result": result}
            )
    finally:
        spark.stop()
    best = min(runs, key=lambda run: run["seconds"])
    return {
        "seconds": best["seconds"],
        "cpu_seconds": best["cpu_seconds"],
        "all_seconds": [run["seconds"] for run in runs],
        "load_before": [run["load_before"] for run in runs],
        "session_start_seconds": round(session_seconds, 2),
        "rows_in": best["result"].rows_in,
        "rows_kept": best["result"].rows_kept,
        "rejected_by_reason": best["result"].rejected_by_reason,
        "bytes_in": best["result"].bytes_in,
    }


def run_duckdb(settings: Settings, workdir: Path, repeat: int) -> dict[str, Any]:
    """Time DuckDB (``threads`` = CORES) on the same staged files; the best of ``repeat`` runs."""
    import duckdb

    from watchlake.lake import Lake

    files = sorted(str(path) for path in Path(Lake.from_settings(settings).staging).rglob("sw1.p*.csv"))
    runs = []
    for _ in range(repeat):
        con = duckdb.connect()
        con.execute(f"SET threads = {CORES}")
        load, cpu = os.getloadavg()[0], _own_cpu_seconds()
        started = time.perf_counter()
        counts = duckdb_clean.clean(
            con, files, workdir / "duckdb" / "readings", workdir / "duckdb" / "rejected"
        )
        seconds, cpu = round(time.perf_counter() - started, 3), round(_own_cpu_seconds() - cpu, 1)
        runs.append({"seconds": seconds, "cpu_seconds": cpu, "load_before": load, **counts})
        con.close()
    best = min(runs, key=lambda run: run["seconds"])
    return {
        **best,
        "all_seconds": [run["seconds"] for run in runs],
        "load_before": [run["load_before"] for run in runs],
        "version": duckdb.__version__,
    }


def _settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a fresh ``watchlake`` process the benchmark's settings (WATCHLAKE_* variables)."""
    spark = settings.spark
    return {
        **os.environ,
        "WATCHLAKE_RUNTIME_DIR": str(settings.runtime_dir),
        "WATCHLAKE_LAKE__ROOT": str(settings.lake.root),
        "WATCHLAKE_SPARK__MASTER": spark.master,
        "WATCHLAKE_SPARK__SHUFFLE_PARTITIONS": str(spark.shuffle_partitions),
        "WATCHLAKE_SPARK__UI_ENABLED": "false",
        "WATCHLAKE_SPARK__DRIVER_MEMORY": spark.driver_memory,
        "WATCHLAKE_CATALOG__KIND": "none",
    }


def _machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has used (all cores, /proc/stat): a fresh process's JVM is not its waited-for
    child, so only the machine's count includes it (on an otherwise idle machine, that is the run's)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _timed_process(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds of ``command`` from fork to exit, and the machine's CPU seconds meanwhile."""
    load, cpu, started = os.getloadavg()[0], _machine_cpu_seconds(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 2)
    cpu = _machine_cpu_seconds() - cpu
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return {"seconds": seconds, "machine_cpu_seconds": round(cpu, 1), "load_before": load}


def run_one_shot(settings: Settings, workdir: Path, repeat: int) -> dict[str, Any]:
    """What an Airflow task or an EMR step pays: ``watchlake clean`` as a fresh process (interpreter, JVM and
    Spark session start, the job, the catalog left off as above), beside a fresh Python process running the DuckDB
    cleaning; median of ``repeat`` runs each."""
    env = _settings_env(settings)
    spark = [_timed_process([sys.executable, "-m", "watchlake", "clean"], env) for _ in range(repeat)]
    from watchlake.lake import Lake

    files = sorted(str(path) for path in Path(Lake.from_settings(settings).staging).rglob("sw1.p*.csv"))
    script = (
        "import duckdb, json, sys; from pathlib import Path; from bench.clean import duckdb_clean; "
        f"con = duckdb.connect(); con.execute('SET threads = {CORES}'); "
        "files = json.loads(sys.argv[1]); out = Path(sys.argv[2]); "
        "duckdb_clean.clean(con, files, out / 'readings', out / 'rejected')"
    )
    duck_env = {**env, "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])}
    duck = [
        _timed_process(
            [sys.executable, "-c", script, json.dumps(files), str(workdir / "duckdb-oneshot")], duck_env
        )
        for _ in range(repeat)
    ]

    def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
        ordered = sorted(runs, key=lambda run: run["seconds"])
        return {**ordered[len(ordered) // 2], "all_seconds": [run["seconds"] for run in runs]}

    spark_median, duck_median = median(spark), median(duck)
    return {
        "spark": spark_median,
        "duckdb": duck_median,
        "spark_over_duckdb_time": round(spark_median["seconds"] / duck_median["seconds"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gb", type=float, default=1.0, help="CSV to generate, in GB (default 1.0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine, the best counts (default 3)")
    parser.add_argument("--workdir", type=Path, default=REPO / ".runtime" / "bench" / "clean")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "clean.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = bench_settings(args.workdir)
    data = prepare_data(settings, args.workdir, args.gb)
    # What scripts/setup.sh leaves a user for the default settings: the JVM class archive, here for these settings.
    archive = jvm_archive_builder.build(settings)
    duck = run_duckdb(settings, args.workdir, args.repeat)
    spark = run_spark(settings, args.repeat)
    one_shot = run_one_shot(settings, args.workdir, args.repeat)
    megabytes = spark["bytes_in"] / 1e6
    results = {
        "benchmark": "clean",
        "cores": CORES,
        "machine": platform.platform(),
        "data": data,
        "megabytes": round(megabytes, 1),
        "spark": {**spark, "mb_per_s_per_core": round(megabytes / spark["seconds"] / CORES, 1)},
        "duckdb": {**duck, "mb_per_s_per_core": round(megabytes / duck["seconds"] / CORES, 1)},
        "spark_over_duckdb_time": round(spark["seconds"] / duck["seconds"], 2),
        # The machine may be shared: CPU seconds are less sensitive to other load than wall time.
        "spark_over_duckdb_cpu": round(spark["cpu_seconds"] / duck["cpu_seconds"], 2),
        "target_ratio": 2.0,
        # Fresh processes, median of --repeat: the figure an Airflow task or an EMR step meets (target <= 4).
        "one_shot": {**one_shot, "target_ratio": 4.0, "class_archive": str(archive) if archive else None},
        "same_counts": spark["rejected_by_reason"] == duck["rejected_by_reason"]
        and spark["rows_kept"] == duck["rows_kept"],
        "counts_match_planted": spark["rejected_by_reason"] == data["planted"]["rejected"]
        and spark["rows_kept"] == data["planted"]["kept_rows"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    log.info(
        "%.0f MB: Spark %.1f s (%.1f MB/s/core), DuckDB %.1f s (%.1f MB/s/core), ratio %.2f (CPU %.2f); "
        "one-shot (fresh process) Spark %.1f s, DuckDB %.1f s, ratio %.2f; same counts %s; -> %s",
        megabytes, spark["seconds"], results["spark"]["mb_per_s_per_core"], duck["seconds"],
        results["duckdb"]["mb_per_s_per_core"], results["spark_over_duckdb_time"],
        results["spark_over_duckdb_cpu"], one_shot["spark"]["seconds"], one_shot["duckdb"]["seconds"],
        one_shot["spark_over_duckdb_time"], results["same_counts"], args.out,
    )  # fmt: skip
    return 0 if results["same_counts"] else 1


if __name__ == "__main__":
    sys.exit(main())
