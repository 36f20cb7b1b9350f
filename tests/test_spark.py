from __future__ import annotations

from watchlake.spark import session_conf


def test_session_conf_local_uses_utc_loopback_and_derby(settings) -> None:
    conf = session_conf(settings, jars=[])
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.driver.host"] == "127.0.0.1"
    assert "jdbc:derby:" in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert settings.runtime_dir in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]


def test_session_conf_glue_sets_client_factory(tmp_path) -> None:
    from watchlake.settings import load_settings

    conf = session_conf(load_settings("aws", runtime_dir=str(tmp_path)), jars=["/x/a.jar"])
    assert conf["spark.hadoop.hive.metastore.client.factory.class"].endswith(
        "AWSGlueDataCatalogHiveClientFactory"
    )
    assert conf["spark.jars"] == "/x/a.jar"
    assert conf["spark.sql.warehouse.dir"] == "s3://watchlake-lake/warehouse"


def test_spark_session_persists_a_catalog_table(spark) -> None:
    spark.range(3).write.mode("overwrite").saveAsTable("watchlake.smoke")
    assert spark.table("watchlake.smoke").count() == 3


def test_session_conf_gives_driver_and_executors_the_jit_and_gc_options(tmp_path) -> None:
    from conftest import make_settings

    for collector, flag in (("parallel", "-XX:+UseParallelGC"), ("g1", "-XX:+UseG1GC")):
        settings = make_settings(tmp_path, spark={"garbage_collector": collector})
        conf = session_conf(settings, jars=[])
        for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
            assert {"-XX:-DontCompileHugeMethods", flag} <= set(conf[key].split()), key


def test_the_running_session_has_the_parse_double_function(spark) -> None:
    from watchlake.jvm import PARSE_DOUBLE

    assert spark.sql(f"SELECT {PARSE_DOUBLE}('2.5e-3')").first()[0] == 0.0025


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
