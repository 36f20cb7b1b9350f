"""The only place a SparkSession is built, so every stage runs with the same, settings-driven configuration."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from pyspark import SparkContext
from pyspark.sql import SparkSession

from watchlake import jvm_archive, metastore, spark_aws
from watchlake.errors import ConfigError
from watchlake.jvm import register_functions
from watchlake.lake import Lake, is_remote
from watchlake.settings import Settings

log = logging.getLogger(__name__)

# Folders under ``settings.jvm.lib_dir`` whose jars a session may add (filled by scripts/fetch-jars.sh).
JAR_FOLDERS = ("spark-kafka", "jdbc", "functions", "s3a")
# The JVMs' log configuration, its level from settings.spark.log_level.
LOG_CONFIGURATION = Path(__file__).resolve().parent / "conf" / "log4j2.properties"
GARBAGE_COLLECTORS = {"parallel": "-XX:+UseParallelGC", "g1": "-XX:+UseG1GC"}
# Wide generated code (105 window features, dbldatagen's per-class expressions) makes methods over the JVM's 8 KB
# JIT limit, which then run interpreted: let the JIT compile them anyway. And start the optimising compiler (C2)
# at three times its default counts: in a fresh JVM the first clean job of bench/clean spends about 40 % of its
# CPU (about 30 of 70 s on 2 cores) compiling, much of it code run only while Spark plans and starts jobs.
# Measured 2026-12-07 in fresh JVMs (a noisy machine): compiler CPU 22.5 against 28.4 s (mean of 5 each), the cold
# job 30.9 against 33.4 s, the later jobs in the same JVM alike.
JIT_OPTIONS = (
    "-XX:-DontCompileHugeMethods",
    "-XX:Tier4InvocationThreshold=15000",
    "-XX:Tier4CompileThreshold=45000",
    "-XX:Tier4BackEdgeThreshold=120000",
)


def connector_jars(settings: Settings, folders: tuple[str, ...]) -> list[str]:
    """Absolute paths of the jars in the given folders; a clear error when a folder was never fetched."""
    jars: list[str] = []
    for folder in folders:
        if folder not in JAR_FOLDERS:
            raise ValueError(f"unknown jar folder {folder!r}; known: {', '.join(JAR_FOLDERS)}")
        path = settings.jvm.lib_path / folder
        found = sorted(str(jar) for jar in path.glob("*.jar"))
        if not found:
            raise ConfigError(f"jvm.lib_dir: no jars in {path}; run scripts/fetch-jars.sh to fetch them")
        jars.extend(found)
    return jars


def session_conf(settings: Settings, jars: list[str]) -> dict[str, str]:
    """The Spark configuration for these settings, as plain data (tested without starting a JVM)."""
    lake = Lake.from_settings(settings)
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.spark.shuffle_partitions),
        "spark.driver.memory": settings.spark.driver_memory,
        "spark.ui.enabled": str(settings.spark.ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.warehouse.dir": _warehouse_dir(settings, lake),
        # Spark 4.1.1's DSv2 Kafka source throws a NullPointerException in its progress metrics when a query
        # restarts by replaying an uncommitted batch (SPARK-55271): read Kafka through the V1 source instead,
        # which has the same options, offsets and exactly-once replay.
        "spark.sql.streaming.disabledV2MicroBatchReaders": (
            "org.apache.spark.sql.kafka010.KafkaSourceProvider"
        ),
    }
    java_options = [
        *JIT_OPTIONS,
        GARBAGE_COLLECTORS[settings.spark.garbage_collector],
        f"-Dlog4j2.configurationFile={LOG_CONFIGURATION.as_uri()}",
        f"-Dwatchlake.log.level={settings.spark.log_level.lower()}",
    ]
    conf["spark.executor.extraJavaOptions"] = " ".join(java_options)  # the driver adds its own below
    if settings.env == "local":
        # Keep the driver on loopback: no other address is ever used here.
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    if jvm_archive.applies(settings) or metastore.uses_postgres(settings):
        # A PostgreSQL metastore needs the JDBC driver on the driver's class path (Hive loads it through the JVM's
        # DriverManager, which does not see spark.jars). Every local driver gets it, so that all of them have one
        # class path and map one class archive.
        conf["spark.driver.extraClassPath"] = str(settings.jvm.lib_path / "jdbc" / "*")
    if settings.catalog.kind == "hive":
        catalog_conf, catalog_java_options = metastore.metastore_conf(settings)
        conf.update(catalog_conf)
        java_options.extend(catalog_java_options)
    elif settings.catalog.kind == "glue":
        conf["spark.hadoop.hive.metastore.client.factory.class"] = (
            "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
        )
    conf.update(spark_aws.s3a_conf(settings))  # an S3 lake outside EMR: S3A serves s3:// and s3a://
    if jars:
        conf["spark.jars"] = ",".join(jars)
    # A driver started here maps the class archive built for its class path, when there is one.
    java_options.extend(jvm_archive.java_options(settings, {**conf, **settings.spark.conf}))
    conf["spark.driver.extraJavaOptions"] = " ".join(java_options)
    conf.update(settings.spark.conf)
    return conf


def _warehouse_dir(settings: Settings, lake: Lake) -> str:
    warehouse = f"{lake.root}/warehouse"
    return warehouse if is_remote(warehouse) else Path(warehouse).resolve().as_uri()


def build_session(settings: Settings, app_name: str, *, jars: tuple[str, ...] = ()) -> SparkSession:
    """Return the SparkSession for ``settings``; ``jars`` names folders of connector jars to add.

    In a process that already has a session, Spark returns that one (static settings such as jars cannot change
    after the first start), so tests and long-lived processes build the session once. Set-ups that need a cluster
    (a Glue catalog or ``yarn`` off EMR) are refused first, naming the setting to change.
    """
    spark_aws.refuse_unrunnable(settings)
    builder = SparkSession.builder.appName(app_name).master(settings.spark.master)
    # watchlake's SQL functions are in every session; a PostgreSQL metastore needs its JDBC driver; an S3 lake
    # outside EMR the S3A connector.
    needed = ("functions", "jdbc") if metastore.uses_postgres(settings) else ("functions",)
    if spark_aws.needs_s3a(settings):
        needed = (*needed, "s3a")
    folders = tuple(dict.fromkeys((*needed, *jars)))
    for key, value in session_conf(settings, connector_jars(settings, folders)).items():
        builder = builder.config(key, value)
    if settings.catalog.kind in ("hive", "glue"):
        builder = builder.enableHiveSupport()
    # Only a new JVM opens the metastore (an existing session keeps its catalog): check it and take turns first.
    opening = metastore.opening(settings) if SparkContext._active_spark_context is None else nullcontext()
    with opening:
        _export_metastore_password(settings)
        _python_workers_run_this_interpreter(settings)
        spark = builder.getOrCreate()
        if settings.catalog.kind != "none":  # the first catalog call opens (and may create) the metastore
            spark.sql(f"CREATE DATABASE IF NOT EXISTS {settings.catalog.database}")
    spark.sparkContext.setLogLevel(settings.spark.log_level)
    register_functions(spark)
    log.info("Spark %s session %r on %s", spark.version, app_name, settings.spark.master)
    return spark


def _python_workers_run_this_interpreter(settings: Settings) -> None:
    """On a local master, Python workers start ``$PYSPARK_PYTHON`` or else ``python3`` from PATH, which is whatever
    the shell has (an unactivated venv, an Airflow task, cron) and may lack the project's packages: use this
    interpreter unless the user chose one. (The ``spark.pyspark.python`` setting is read only by spark-submit.)"""
    if settings.spark.master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def _export_metastore_password(settings: Settings) -> None:
    """Hand the warehouse password to the JVM about to start through the environment (see metastore.py)."""
    password = settings.warehouse.password.get_secret_value()
    if metastore.uses_postgres(settings) and password:
        os.environ[metastore.PASSWORD_ENV] = password


def hadoop_file_system(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """The Hadoop file system of ``path`` (local disk, S3, ...) and the JVM ``Path`` class."""
    hadoop_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path  # type: ignore[union-attr]
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[union-attr]
    return hadoop_path(path).getFileSystem(conf), hadoop_path


@contextmanager
def sql_conf(spark: SparkSession, values: Mapping[str, str]) -> Iterator[None]:
    """Runtime SQL settings for one job, restored afterwards (the session may be shared with other stages)."""
    previous = {key: spark.conf.get(key, None) for key in values}
    for key, value in values.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
