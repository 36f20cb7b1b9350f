"""Building the JVM class archive of :mod:`watchlake.jvm_archive`: ``python -m watchlake.jvm_archive_builder``.

A child process starts a session with the archive's dump option, runs a small job touching what the stages use and
closes its JVM; only an archive whose JVM exited normally is moved into place (a truncated one would crash the JVM
that maps it). ``scripts/setup.sh`` runs it for the default settings; bench/clean for its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from watchlake.jvm_archive import DUMP_ENV, applies, archive_path
from watchlake.settings import Settings, load_settings
from watchlake.spark import build_session, connector_jars, session_conf

log = logging.getLogger(__name__)


def build(settings: Settings) -> Path | None:
    """Build the archive for ``settings`` unless it exists; its path, or None when class data sharing is off."""
    if not applies(settings):
        return None
    path = archive_path(settings, session_conf(settings, connector_jars(settings, ("functions",))))
    if path.is_file():
        log.info("class archive is up to date: %s", path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("*.jsa.partial"):
        stale.unlink(missing_ok=True)
    partial = path.with_suffix(".jsa.partial")
    log.info("building the class archive %s (a session and a small job, once)", path)
    child = subprocess.run(  # the child gets these settings on its stdin
        [sys.executable, "-m", "watchlake.jvm_archive_builder", "--dump"],
        env={**os.environ, DUMP_ENV: str(partial)},
        input=pickle.dumps(settings),
        capture_output=True,
    )
    if child.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(
            f"building the class archive failed (exit {child.returncode}); sessions start without it:\n"
            + child.stderr.decode(errors="replace")[-2000:]
        )
    os.replace(partial, path)
    log.info("class archive: %s (%.0f MB)", path, path.stat().st_size / 1e6)
    return path


def _dump(settings: Settings) -> None:
    """The child of :func:`build`: load what the stages load, then make the JVM exit (and write the archive)."""
    from pyspark import SparkContext

    # The same class path without opening a catalog (no metastore service needed): every local session has one.
    without_catalog = settings.model_copy(
        update={"catalog": settings.catalog.model_copy(update={"kind": "none"})}
    )
    spark = build_session(without_catalog, "watchlake-class-archive")
    with tempfile.TemporaryDirectory() as scratch:
        text = Path(scratch, "lines.csv")
        text.write_text("".join(f"2019-06-01 10:00:0{i}.1,{i / 3},x\n" for i in range(10)))
        lines = spark.read.text(str(text)).selectExpr("split(value, ',') AS f").cache()
        frame = lines.selectExpr("f[0] AS stamp", "double(f[1]) AS value", "f[2] AS kind")
        frame.write.partitionBy("kind").parquet(f"{scratch}/out")
        spark.read.parquet(f"{scratch}/out").groupBy("kind").count().collect()
        lines.unpersist()
    gateway = SparkContext._gateway
    spark.stop()
    process = gateway.proc  # type: ignore[union-attr]
    gateway.shutdown()  # type: ignore[union-attr]
    process.stdin.close()  # the gateway JVM exits when its stdin closes, and writes the archive then
    if process.wait(timeout=600) != 0:
        raise SystemExit(f"the JVM exited with {process.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m watchlake.jvm_archive_builder",
        description="Build the class-data-sharing archive that makes Spark sessions of this machine start sooner "
        "(for the settings in effect: WATCHLAKE_ENV and WATCHLAKE_* variables). Nothing to do when it exists.",
    )
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.dump:
        _dump(pickle.loads(sys.stdin.buffer.read()))
    else:
        build(load_settings())
    return 0


if __name__ == "__main__":
    sys.exit(main())
