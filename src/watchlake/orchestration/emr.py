"""The EMR target's requests, as pure data: the cluster (RunJobFlow), a stage's Spark step, where a step's logs are.

The code bundle lives under ``s3://<aws.bucket>/<orchestration.emr.code_prefix>/``: ``spark_jobs/<stage>.py`` (what
a step submits), the wheel and ``jars/<folder>/`` (installed on every node by the bootstrap script at
``orchestration.emr.bootstrap_script_key``, which puts the jars in :data:`NODE_JAR_DIR`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watchlake.errors import ConfigError
from watchlake.settings import Settings

# Spark's Hive client asks Glue instead of a metastore: EMR's documented switch for the Glue Data Catalog.
GLUE_CLIENT_FACTORY = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
# Where the bootstrap script puts the bundle's jars on each node (the steps point jvm.lib_dir there).
NODE_JAR_DIR = "/opt/watchlake/jvm/lib"
# Cluster states in which a cluster can still take steps.
ACTIVE_STATES = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING")


def bucket_of(settings: Settings) -> str:
    """``aws.bucket``; a ConfigError when it is empty (the EMR target keeps code and logs there)."""
    if not settings.aws.bucket:
        raise ConfigError("aws.bucket is empty: the emr target keeps its code bundle and logs in that bucket")
    return settings.aws.bucket


def code_uri(settings: Settings) -> str:
    """``s3://<bucket>/<code_prefix>`` without a trailing slash."""
    return f"s3://{bucket_of(settings)}/{settings.orchestration.emr.code_prefix.strip('/')}"


def log_uri(settings: Settings) -> str:
    """Where EMR writes cluster and step logs: ``orchestration.emr.log_uri`` or ``s3://<bucket>/emr-logs/``."""
    configured = settings.orchestration.emr.log_uri
    return configured if configured else f"s3://{bucket_of(settings)}/emr-logs/"


def cluster_tags(settings: Settings) -> list[dict[str, str]]:
    """The tags that mark a cluster as the project's (and find it again), in EMR's Key/Value form."""
    return [{"Key": key, "Value": value} for key, value in sorted(settings.orchestration.emr.tags.items())]


def _glue_configurations(settings: Settings) -> list[dict[str, Any]]:
    if settings.catalog.kind != "glue":
        return []
    return [
        {
            "Classification": "spark-hive-site",
            "Properties": {"hive.metastore.client.factory.class": GLUE_CLIENT_FACTORY},
        }
    ]


def cluster_request(settings: Settings) -> dict[str, Any]:
    """The RunJobFlow request of the project's cluster: release, applications, instances, Glue as the metastore
    (when ``catalog.kind`` is glue), the bootstrap action that installs the bundle, tags, idle auto-termination.
    It stays up between steps (``KeepJobFlowAliveWhenNoSteps``) so later tasks reuse it."""
    emr = settings.orchestration.emr
    bucket = bucket_of(settings)
    instances: dict[str, Any] = {
        "InstanceGroups": [
            {
                "Name": "master",
                "InstanceRole": "MASTER",
                "InstanceType": emr.master_instance_type,
                "InstanceCount": 1,
            }
        ],
        "KeepJobFlowAliveWhenNoSteps": True,
        "TerminationProtected": False,
    }
    if emr.core_instance_count:
        instances["InstanceGroups"].append(
            {
                "Name": "core",
                "InstanceRole": "CORE",
                "InstanceType": emr.core_instance_type,
                "InstanceCount": emr.core_instance_count,
            }
        )
    return {
        "Name": f"watchlake-{settings.env}",
        "ReleaseLabel": emr.release_label,
        "Applications": [{"Name": name} for name in emr.applications],
        "Instances": instances,
        "Configurations": _glue_configurations(settings),
        "BootstrapActions": [
            {
                "Name": "install-watchlake",
                "ScriptBootstrapAction": {
                    "Path": f"s3://{bucket}/{emr.bootstrap_script_key.lstrip('/')}",
                    "Args": [code_uri(settings), NODE_JAR_DIR],
                },
            }
        ],
        "LogUri": log_uri(settings),
        "ServiceRole": emr.service_role,
        "JobFlowRole": emr.instance_profile,
        "VisibleToAllUsers": True,
        "Tags": cluster_tags(settings),
        "AutoTerminationPolicy": {"IdleTimeout": emr.idle_timeout_seconds},
    }


def step_environment(settings: Settings) -> dict[str, str]:
    """The variables a step's driver and executors get: the environment's settings, jars from the bootstrap, and
    ``spark.on_emr`` (EMRFS serves s3:// and Glue is the catalog there, so no S3A and no refusal of Glue)."""
    return {
        "WATCHLAKE_ENV": settings.env,
        "WATCHLAKE_JVM__LIB_DIR": NODE_JAR_DIR,
        "WATCHLAKE_SPARK__ON_EMR": "true",
    }


def spark_step(settings: Settings, stage: str, arguments: Sequence[str] = ()) -> dict[str, Any]:
    """The EMR step that runs ``spark_jobs/<stage>.py`` from the code bundle with ``arguments`` (the stage's CLI
    options) through ``spark-submit`` in cluster mode. A failed step leaves the cluster up for the next task."""
    submit = ["spark-submit", "--deploy-mode", "cluster"]
    for key, value in step_environment(settings).items():
        submit += [
            "--conf",
            f"spark.yarn.appMasterEnv.{key}={value}",
            "--conf",
            f"spark.executorEnv.{key}={value}",
        ]
    return {
        "Name": f"watchlake-{stage}",
        "ActionOnFailure": "CONTINUE",
        "HadoopJarStep": {
            "Jar": "command-runner.jar",
            "Args": [*submit, f"{code_uri(settings)}/spark_jobs/{stage}.py", *arguments],
        },
    }


def step_log_location(
    settings: Settings, cluster_id: str, step_id: str, stream: str = "stderr"
) -> tuple[str, str]:
    """(bucket, key) of a step's gzipped ``stdout`` or ``stderr`` as EMR writes it under the log URI."""
    uri = log_uri(settings)
    if not uri.startswith("s3://"):
        raise ConfigError(f"orchestration.emr.log_uri must be an s3:// URI, not {uri!r}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    prefix = prefix.strip("/")
    key = "/".join(part for part in (prefix, cluster_id, "steps", step_id, f"{stream}.gz") if part)
    return bucket, key


def is_project_cluster(settings: Settings, tags: Sequence[dict[str, str]]) -> bool:
    """True when a cluster's tags hold every one of the project's tags."""
    have = {tag["Key"]: tag["Value"] for tag in tags}
    return all(have.get(key) == value for key, value in settings.orchestration.emr.tags.items())
