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
