"""Spark and AWS, on EMR and off it: what a session needs to reach an S3 lake, and the set-ups refused before a JVM
starts. Used by the one session builder (``watchlake.spark``).

On EMR (``spark.on_emr``, set by the EMR steps), EMRFS serves ``s3://`` and the cluster's configuration names the
Glue Data Catalog. Anywhere else (a laptop, CI against moto) Hadoop's S3A connector (``jvm/lib/s3a``) serves both
``s3://`` and ``s3a://``, with endpoint, region and credentials from the settings and the environment.
"""

from __future__ import annotations

import os

from watchlake.aws import SIMULATED_CREDENTIALS, credentials_found
from watchlake.errors import ConfigError
from watchlake.settings import Settings

S3A_FILE_SYSTEM = "org.apache.hadoop.fs.s3a.S3AFileSystem"
S3A_ABSTRACT_FILE_SYSTEM = "org.apache.hadoop.fs.s3a.S3A"
# The AWS SDK's own chain (environment, profile, web identity, container and instance roles), so a session finds
# the same credentials boto3 does, and none ever stands in the Spark configuration.
SDK_CREDENTIALS_CHAIN = "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider"
SIMPLE_CREDENTIALS = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
S3_SCHEMES = ("s3://", "s3a://")
# Where a YARN client finds its cluster; without one of them `yarn` has nothing to submit to.
YARN_CONF_VARIABLES = ("HADOOP_CONF_DIR", "YARN_CONF_DIR")


def on_s3(uri: str) -> bool:
    return uri.startswith(S3_SCHEMES)


def needs_s3a(settings: Settings) -> bool:
    """True when the session must bring its own S3 connector: the lake (and with it the model registry, which lives
    under it) is on S3 and Spark runs outside EMR."""
    return on_s3(settings.lake.root) and not settings.spark.on_emr


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Hadoop configuration (``spark.hadoop.*``) for S3A; empty unless :func:`needs_s3a`.

    ``s3://`` is mapped to S3A too, so the lake's URIs are the same on and off EMR. With ``aws.endpoint_url`` (moto
    or another S3 look-alike): that endpoint, path-style requests, and the placeholder key pair of ``watchlake.aws``
    when the environment holds no credentials. Real credentials are never copied into the configuration (it is
    shown in the Spark UI and logs): the SDK's chain reads them where boto3 does.
    """
    if not needs_s3a(settings):
        return {}
    aws = settings.aws
    hadoop = {
        "fs.s3.impl": S3A_FILE_SYSTEM,
        "fs.AbstractFileSystem.s3.impl": S3A_ABSTRACT_FILE_SYSTEM,
        "fs.AbstractFileSystem.s3a.impl": S3A_ABSTRACT_FILE_SYSTEM,
        "fs.s3a.endpoint.region": aws.region,
        "fs.s3a.aws.credentials.provider": SDK_CREDENTIALS_CHAIN,
    }
    if aws.endpoint_url:
        hadoop["fs.s3a.endpoint"] = aws.endpoint_url
        hadoop["fs.s3a.path.style.access"] = "true"
        hadoop["fs.s3a.connection.ssl.enabled"] = str(aws.endpoint_url.startswith("https")).lower()
        if not credentials_found():
            hadoop["fs.s3a.aws.credentials.provider"] = SIMPLE_CREDENTIALS
            hadoop["fs.s3a.access.key"] = SIMULATED_CREDENTIALS["aws_access_key_id"]
            hadoop["fs.s3a.secret.key"] = SIMULATED_CREDENTIALS["aws_secret_access_key"]
    return {f"spark.hadoop.{key}": value for key, value in hadoop.items()}


def refuse_unrunnable(settings: Settings) -> None:
    """ConfigError, before any JVM starts, for set-ups that can only run on a cluster; nothing on EMR.

    A Glue catalog off EMR would otherwise fail inside Hive's client (after creating ``metastore_db/`` in the working
    folder), and ``yarn`` without a cluster configuration with a Java gateway trace.
    """
    spark = settings.spark
    if spark.on_emr:
        return
    if settings.catalog.kind == "glue":
        raise ConfigError(
            "catalog.kind is glue, but Spark runs outside EMR (spark.on_emr is false): the Glue Data Catalog "
            "client is on EMR's classpath only. Here set WATCHLAKE_CATALOG__KIND=none (tables by path only) or "
            "WATCHLAKE_CATALOG__KIND=hive (a local metastore, see catalog.metastore)"
        )
    if spark.master == "yarn" and not any(os.environ.get(name) for name in YARN_CONF_VARIABLES):
        raise ConfigError(
            "spark.master is yarn, but neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set, so there is no YARN "
            "cluster to submit to. On this machine set WATCHLAKE_SPARK__MASTER='local[*]'; for a cluster, point "
            "HADOOP_CONF_DIR at its client configuration (on EMR the steps set spark.on_emr)"
        )
