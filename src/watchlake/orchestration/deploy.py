"""``watchlake aws deploy`` at run time: upload the code bundle (:mod:`.bundle`) to the lake's bucket with progress,
find or create the project's EMR cluster (its request from :mod:`.emr`), and add a pipeline's Spark steps.

Plain boto3 (``watchlake.aws``), no Airflow: deploying is an operator's command, the DAG tasks reuse what it put up.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchlake.aws import emr_client, s3_client
from watchlake.ingest.staging import S3Target
from watchlake.orchestration import bundle, emr
from watchlake.orchestration.emr_runner import find_cluster
from watchlake.orchestration.pipelines import pipeline, stage_arguments
from watchlake.progress import CountingReader, track
from watchlake.settings import Settings
from watchlake.stages import stage

log = logging.getLogger(__name__)

Report = Callable[[str], None]
MB = 1024 * 1024


@dataclass
class DeployResult:
    bucket: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    cluster_id: str = ""
    cluster_created: bool = False
    step_ids: list[str] = field(default_factory=list)


def upload(settings: Settings, files: Sequence[bundle.BundleFile], report: Report) -> DeployResult:
    """Upload ``files`` to ``aws.bucket`` (objects whose stored size and SHA-256 match are left alone), then the
    manifest of all of them; one line per file, and a progress bar (or log lines) while a file goes up.

    The bucket is an ingest S3 target: the same SHA-256 metadata, multipart chunks and copy check as staging."""
    bucket = emr.bucket_of(settings)
    target = S3Target(f"s3://{bucket}", s3_client(settings), settings.ingest.multipart_chunk_mb)
    result = DeployResult(bucket)
    total = sum(item.size for item in files)
    for number, item in enumerate(files, 1):
        label = f"[{number}/{len(files)}] s3://{bucket}/{item.key} ({item.size / MB:.1f} MB)"
        if target.matches(item.key, item.size, item.sha256):
            result.unchanged.append(item.key)
            report(f"{label}  unchanged")
            continue
        with track(f"upload {item.key}", item.size) as progress, item.path.open("rb") as stream:
            target.put(CountingReader(stream, progress), item.key, item.size, item.sha256)
        result.uploaded.append(item.key)
        result.bytes_sent += item.size
        report(f"{label}  uploaded ({result.bytes_sent / MB:.1f} of {total / MB:.1f} MB sent)")
    manifest = {item.key: {"sha256": item.sha256, "size": item.size} for item in files}
    target.write_text(bundle.manifest_key(settings), json.dumps(manifest, indent=2, sort_keys=True))
    return result


def ensure_cluster(settings: Settings, client: Any) -> tuple[str, bool]:
    """The project's cluster (``aws.emr_cluster_id``, else an active one with the project's tags) and False, or
    a new one from :func:`emr.cluster_request` and True."""
    found = find_cluster(settings, client)
    if found:
        return found, False
    created = client.run_job_flow(**emr.cluster_request(settings))
    return str(created["JobFlowId"]), True


def spark_steps(settings: Settings, dag_id: str) -> list[dict[str, Any]]:
    """The EMR steps of pipeline ``dag_id``'s Spark stages, in order, with its default parameters (the other
    stages, such as ingest, run beside Airflow)."""
    entry = pipeline(dag_id)
    return [
        emr.spark_step(settings, name, stage_arguments(entry, name, {}))
        for name in entry.stages
        if stage(name).spark
    ]


def deploy(
    settings: Settings,
    report: Report,
    *,
    wheel: Path | None = None,
    scripts_only: bool = False,
    cluster: bool = True,
    steps_of: str | None = None,
) -> DeployResult:
    """Build and upload the bundle (only ``spark_jobs/`` with ``scripts_only``), then with ``cluster`` find or
    create the cluster and add the Spark steps of pipeline ``steps_of`` when given."""
    root = bundle.checkout_root()
    with tempfile.TemporaryDirectory(prefix="watchlake-bundle-") as scratch:
        out_dir = Path(scratch)
        if scripts_only:
            files = bundle.script_files(settings, root)
        else:
            if wheel is None:
                report("building the watchlake wheel ...")
                wheel = bundle.build_wheel(root, out_dir)
            files = bundle.code_files(settings, root, wheel, out_dir)
        result = upload(settings, files, report)
    if scripts_only or not cluster:
        return result
    client = emr_client(settings)
    result.cluster_id, result.cluster_created = ensure_cluster(settings, client)
    report(f"cluster {result.cluster_id} ({'created' if result.cluster_created else 'reused'})")
    if steps_of:
        steps = spark_steps(settings, steps_of)
        result.step_ids = list(client.add_job_flow_steps(JobFlowId=result.cluster_id, Steps=steps)["StepIds"])
        for step, step_id in zip(steps, result.step_ids, strict=True):
            report(f"step {step_id}: {step['Name']}")
    return result
