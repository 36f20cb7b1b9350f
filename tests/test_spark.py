from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from watchlake.errors import ConfigError, ServiceError
from watchlake.spark import JIT_OPTIONS, session_conf

JDO = "spark.hadoop.javax.jdo.option."


def test_session_conf_local_uses_utc_loopback_and_a_postgres_metastore(settings) -> None:
    conf = session_conf(settings, jars=[])
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.driver.host"] == "127.0.0.1"
    assert conf[f"{JDO}ConnectionURL"] == "jdbc:postgresql://127.0.0.1:5433/watchlake_metastore"
    assert conf[f"{JDO}ConnectionDriverName"] == "org.postgresql.Driver"
    assert conf[f"{JDO}ConnectionUserName"] == "watchlake"
    assert f"{JDO}ConnectionPassword" not in conf  # trust auth: no password set
    assert conf["spark.hadoop.datanucleus.schema.autoCreateAll"] == "true"
    assert conf["spark.hadoop.hive.metastore.schema.verification"] == "false"
    assert conf["spark.driver.extraClassPath"] == str(settings.jvm.lib_path / "jdbc" / "*")
    assert "derby" not in conf["spark.driver.extraJavaOptions"]


def test_session_conf_postgres_metastore_follows_the_warehouse_connection(tmp_path) -> None:
    from conftest import make_settings

    settings = make_settings(
        tmp_path,
        warehouse={"host": "10.0.0.5", "port": 6543, "user": "lake", "password": "hunter2"},
        catalog={"metastore_database": "shared_meta"},
    )
    conf = session_conf(settings, jars=[])
    assert conf[f"{JDO}ConnectionURL"] == "jdbc:postgresql://10.0.0.5:6543/shared_meta"
    assert conf[f"{JDO}ConnectionUserName"] == "lake"
    # The JVM reads the password from the environment: it never stands in the configuration (or command line).
    assert conf[f"{JDO}ConnectionPassword"] == "${env.WATCHLAKE_WAREHOUSE__PASSWORD}"
    assert not any("hunter2" in value for value in conf.values())


def test_session_conf_derby_metastore_lives_under_runtime_dir(tmp_path) -> None:
    from conftest import make_settings

    settings = make_settings(tmp_path, catalog={"metastore": "derby"})
    conf = session_conf(settings, jars=[])
    metastore = Path(settings.runtime_dir, "metastore").resolve()
    assert conf[f"{JDO}ConnectionURL"] == f"jdbc:derby:;databaseName={metastore}/metastore_db;create=true"
    assert f"-Dderby.system.home={metastore}" in conf["spark.driver.extraJavaOptions"].split()
    assert f"{JDO}ConnectionDriverName" not in conf
    # Every local driver has the same class path (one class archive maps them all), JDBC driver included.
    assert conf["spark.driver.extraClassPath"] == str(settings.jvm.lib_path / "jdbc" / "*")


def test_session_conf_without_hive_sets_no_metastore(tmp_path) -> None:
    from conftest import make_settings

    conf = session_conf(make_settings(tmp_path, catalog={"kind": "none"}), jars=[])
    assert not [key for key in conf if key.startswith(JDO) or "datanucleus" in key]


def test_settings_reject_a_metastore_database_that_is_no_plain_identifier(tmp_path) -> None:
    from conftest import make_settings

    with pytest.raises(ConfigError, match=r"catalog\.metastore_database"):
        make_settings(tmp_path, catalog={"metastore_database": "meta; DROP"})
    with pytest.raises(ConfigError, match=r"catalog\.metastore:"):
        make_settings(tmp_path, catalog={"metastore": "mysql"})


def test_metastore_opening_says_what_to_do_when_postgres_does_not_answer(tmp_path) -> None:
    from conftest import make_settings
    from watchlake import metastore
    from watchlake.services.process import free_port

    settings = make_settings(tmp_path, warehouse={"port": free_port()})  # nothing listens there
    expected = pytest.raises(ServiceError, match=r"watchlake up postgres.*catalog\.metastore=derby")
    with expected, metastore.opening(settings):
        pytest.fail("opened a metastore that does not answer")


def test_session_conf_glue_sets_client_factory(tmp_path) -> None:
    from watchlake.settings import load_settings

    conf = session_conf(load_settings("aws", runtime_dir=str(tmp_path)), jars=["/x/a.jar"])
    assert conf["spark.hadoop.hive.metastore.client.factory.class"].endswith(
        "AWSGlueDataCatalogHiveClientFactory"
    )
    assert conf["spark.jars"] == "/x/a.jar"
    assert conf["spark.sql.warehouse.dir"] == "s3://watchlake-lake/warehouse"
    assert not [key for key in conf if key.startswith(JDO) or key == "spark.driver.extraClassPath"]


def test_spark_session_persists_a_catalog_table(spark) -> None:
    spark.range(3).write.mode("overwrite").saveAsTable("watchlake.smoke")
    assert spark.table("watchlake.smoke").count() == 3


def test_session_conf_gives_driver_and_executors_the_jit_and_gc_options(tmp_path) -> None:
    from conftest import make_settings

    for collector, flag in (("parallel", "-XX:+UseParallelGC"), ("g1", "-XX:+UseG1GC")):
        settings = make_settings(tmp_path, spark={"garbage_collector": collector})
        conf = session_conf(settings, jars=[])
        for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
            assert {"-XX:-DontCompileHugeMethods", *JIT_OPTIONS, flag} <= set(conf[key].split()), key


def test_the_running_driver_has_the_jit_options(spark) -> None:
    jvm = spark._jvm
    diagnostics = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    for option in JIT_OPTIONS:
        name, _, value = option.removeprefix("-XX:").partition("=")
        expected = value or ("true" if name.startswith("+") else "false")
        name = name.lstrip("+-")
        assert diagnostics.getVMOption(name).getValue() == expected, name


def test_the_running_session_has_the_casas_line_function(spark) -> None:
    from watchlake.jvm import PARSE_CASAS_LINE

    parsed = spark.sql(f"SELECT {PARSE_CASAS_LINE}('2019-06-01 10:00:00.5,2.5e-3') AS line").first().line
    assert (parsed.field_count, parsed.yaw, parsed.pitch) == (2, 0.0025, None)


def test_sql_conf_sets_values_for_a_block_and_restores_them(spark) -> None:
    from watchlake.spark import sql_conf

    spark.conf.set("spark.sql.codegen.maxFields", "100")
    with sql_conf(
        spark, {"spark.sql.codegen.maxFields": "400", "spark.sql.inMemoryColumnarStorage.compressed": "false"}
    ):
        assert spark.conf.get("spark.sql.codegen.maxFields") == "400"
    assert spark.conf.get("spark.sql.codegen.maxFields") == "100"
    assert (
        spark.conf.get("spark.sql.inMemoryColumnarStorage.compressed") == "true"
    )  # unset: back to the default


_SESSION_SCRIPT = """
from watchlake.settings import load_settings
from watchlake.spark import build_session
spark = build_session(load_settings("local"), "watchlake-quiet-test")
spark.sql("SHOW DATABASES").collect()
spark.stop()
"""


def _session_stderr(tmp_path: Path, **env: str) -> str:
    tmp_path.mkdir(parents=True)
    environment = {
        **os.environ,
        "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "WATCHLAKE_LAKE__ROOT": str(tmp_path / "lake"),
        "WATCHLAKE_CATALOG__METASTORE": "derby",  # a fresh embedded metastore: Hive warns as it creates it
        "WATCHLAKE_SPARK__MASTER": "local[1]",
        "WATCHLAKE_SPARK__UI_ENABLED": "false",
        **env,
    }
    completed = subprocess.run(
        [sys.executable, "-c", _SESSION_SCRIPT],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stderr


@pytest.mark.slow
def test_spark_session_is_quiet_by_default_and_warns_when_asked(tmp_path: Path) -> None:
    quiet = _session_stderr(tmp_path / "quiet")
    assert [line for line in quiet.splitlines() if " WARN " in line] == []
    verbose = _session_stderr(tmp_path / "verbose", WATCHLAKE_SPARK__LOG_LEVEL="WARN")
    assert [line for line in verbose.splitlines() if " WARN " in line]


@pytest.mark.slow
def test_python_workers_run_the_drivers_interpreter_even_when_path_has_another(tmp_path) -> None:
    """An unactivated venv (an Airflow task, cron): `python3` on PATH lacks the project's packages."""
    script = (
        "import sys; from watchlake.settings import load_settings; from watchlake.spark import build_session\n"
        f"settings = load_settings('local', runtime_dir={str(tmp_path)!r}, lake={{'root': {str(tmp_path / 'lake')!r}}},"
        " catalog={'kind': 'none'}, spark={'ui_enabled': False})\n"
        "spark = build_session(settings, 'udf-python')\n"
        "rows = spark.range(1).rdd.map(lambda _: __import__('sys').executable).collect()\n"
        "print('WORKER', rows[0]); spark.stop()\n"
    )
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    env.pop("PYSPARK_PYTHON", None)
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"WORKER {sys.executable}" in done.stdout
