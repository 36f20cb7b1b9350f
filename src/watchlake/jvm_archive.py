"""A class-data-sharing archive of the Spark driver's classes, so a fresh process starts its session sooner.

A stage run as a fresh process (an Airflow task, ``watchlake clean`` from a shell) spends seconds of its JVM start
loading and verifying Spark's classes. Java 17 can store them once in an archive (dynamic CDS, JEP 350) and map it
into every later JVM with the same class path: the session starts in about two thirds of the time (bench/clean).

:mod:`watchlake.jvm_archive_builder` builds it (``python -m watchlake.jvm_archive_builder``, run by
``scripts/setup.sh``). Here: where the archive of a class path lives and the driver options that map it, which the
session factory adds when it exists, on a local master only (elsewhere the driver JVM is not started here), unless
``spark.class_data_sharing`` is false. Every local session has the same driver class path (the session factory
sees to it), so one archive serves them all, whatever their catalog or runtime folder. A JVM that finds the archive
stale (another JDK) ignores it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from watchlake.settings import Settings

# Set only in the builder's child process: the path its JVM writes the archive to when it exits.
DUMP_ENV = "WATCHLAKE_JVM_ARCHIVE_DUMP"
# The archive's own warnings (signed jars, old class files it skips) mean nothing to a user.
QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def archive_path(settings: Settings, conf: Mapping[str, str]) -> Path:
    """Where the archive for the driver class path that ``conf`` gives lives (in ``jvm.archive_dir``)."""
    return settings.jvm.archive_path / f"classes-{_class_path_key(conf)}.jsa"


def java_options(settings: Settings, conf: Mapping[str, str]) -> list[str]:
    """The driver JVM options that map (or, in the builder's child, write) the archive; none when off."""
    if not applies(settings):
        return []
    dump = os.environ.get(DUMP_ENV)
    if dump:
        return [f"-XX:ArchiveClassesAtExit={dump}", *QUIET]
    path = archive_path(settings, conf)
    return [f"-XX:SharedArchiveFile={path}", *QUIET] if path.is_file() else []


def applies(settings: Settings) -> bool:
    """Whether sessions of ``settings`` use an archive: on, and a driver JVM started by this process."""
    return settings.spark.class_data_sharing and settings.spark.master.startswith("local")


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
