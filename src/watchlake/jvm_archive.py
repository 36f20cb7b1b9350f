"""A class-data-sharing archive of the Spark driver's classes, so a fresh process starts its session sooner.

A stage run as a fresh process (an Airflow task, ``watchlake clean`` from a shell) spends seconds of its JVM start
loading and verifying Spark's classes. Java 17 can store them once in an archive (dynamic CDS, JEP 350) and map it
into every later JVM with the same class path: the session starts in about two thirds of the time (bench/clean).

The archive is built by :func:`build` (``python -m watchlake.jvm_archive``, run by ``scripts/setup.sh``) in a child
process that starts a session, runs a small job touching what the stages use and exits; only an archive whose JVM
exited normally is moved into place (a truncated one would crash the JVM that maps it). The session factory adds it
through :func:`java_options` when it exists for the same class path, on a local master only (elsewhere the driver
JVM is not started here), unless ``spark.class_data_sharing`` is false. A JVM that finds the archive stale (another
JDK) ignores it and starts as without.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from watchlake.settings import Settings, load_settings

log = logging.getLogger(__name__)

# Set only in the child of :func:`build`: the path its JVM writes the archive to when it exits.
DUMP_ENV = "WATCHLAKE_JVM_ARCHIVE_DUMP"
# The archive's own warnings (signed jars, old class files it skips) mean nothing to a user.
QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def archive_path(settings: Settings, conf: Mapping[str, str]) -> Path:
    """Where the archive for the driver class path that ``conf`` gives lives (under ``runtime_dir/jvm``)."""
    return Path(settings.runtime_dir, "jvm", f"classes-{_class_path_key(conf)}.jsa").absolute()


def java_options(settings: Settings, conf: Mapping[str, str]) -> list[str]:
    """The driver JVM options that map (or, in :func:`build`'s child, write) the archive; none when off."""
    if not (settings.spark.class_data_sharing and settings.spark.master.startswith("local")):
        return []
    dump = os.environ.get(DUMP_ENV)
    if dump:
        return [f"-XX:ArchiveClassesAtExit={dump}", *QUIET]
    path = archive_path(settings, conf)
    return [f"-XX:SharedArchiveFile={path}", *QUIET] if path.is_file() else []


def _class_path_key(conf: Mapping[str, str]) -> str:
    """A digest of what makes up the driver's class path: the JDK, PySpark's jars and spark.driver.extraClassPath."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    digest = hashlib.sha256()
    for part in (os.path.realpath(sys.executable), os.environ.get("JAVA_HOME", ""), str(jars)):
        digest.update(part.encode() + b"\0")
    for jar in sorted(jars.glob("*.jar")):
        digest.update(f"{jar.name}:{jar.stat().st_size}\0".encode())
    digest.update(conf.get("spark.driver.extraClassPath", "").encode())
    return digest.hexdigest()[:16]


def build(settings: Settings) -> Path | None:
    """Build the archive for ``settings`` unless it exists; its path, or None when class data sharing is off."""
    from watchlake.spark import connector_jars, session_conf

    if not (settings.spark.class_data_sharing and settings.spark.master.startswith("local")):
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
    child = subprocess.run(
        [sys.executable, "-m", "watchlake.jvm_archive", "--dump"],
        env={**os.environ, DUMP_ENV: str(partial)},
        capture_output=True,
        text=True,
    )
    if child.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(
            f"building the class archive failed (exit {child.returncode}); sessions start without it:\n"
            + child.stderr[-2000:]
        )
    os.replace(partial, path)
    log.info("class archive: %s (%.0f MB)", path, path.stat().st_size / 1e6)
    return path


def _dump(settings: Settings) -> None:
    """The child of :func:`build`: load what the stages load, then make the JVM exit (and write the archive)."""
    from pyspark import SparkContext

    from watchlake.spark import build_session, session_conf

    # The same class path without opening a catalog (no metastore service needed): keep its extraClassPath.
    class_path = session_conf(settings, []).get("spark.driver.extraClassPath")
    extra = {"spark.driver.extraClassPath": class_path} if class_path else {}
    without_catalog = settings.model_copy(
        update={
            "catalog": settings.catalog.model_copy(update={"kind": "none"}),
            "spark": settings.spark.model_copy(update={"conf": {**settings.spark.conf, **extra}}),
        }
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
        prog="python -m watchlake.jvm_archive",
        description="Build the class-data-sharing archive that makes Spark sessions of this machine start sooner "
        "(for the settings in effect: WATCHLAKE_ENV and WATCHLAKE_* variables). Nothing to do when it exists.",
    )
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = load_settings()
    if args.dump:
        _dump(settings)
    else:
        build(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
