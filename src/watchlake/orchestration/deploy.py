"""``watchlake aws deploy`` at run time: upload the code bundle (:mod:`.bundle`) to the lake's bucket with progress,
find or create the project's EMR cluster (its request from :mod:`.emr`), and add a pipeline's Spark steps.

Plain boto3 (``watchlake.aws``), no Airflow: deploying is an operator's command, the DAG tasks reuse what it put up.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchlake.aws import emr_client, s3_client
from watchlake.orchestration import bundle, emr
from watchlake.orchestration.emr_runner import find_cluster
from watchlake.orchestration.pipelines import pipeline, stage_arguments
from watchlake.settings import Settings
from watchlake.stages import stage

log = logging.getLogger(__name__)

Report = Callable[[str], None]
# Object metadata holding the SHA-256 of what was uploaded: an unchanged file is not sent again.
SHA_METADATA = "sha256"
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


class _Progress:
    """boto3's transfer callback for one file: a line at each quarter of a large file (calls come from the
    transfer's threads)."""

    def __init__(self, report: Report, label: str, size: int) -> None:
        self._report, self._label, self._size = report, label, size
        self._sent, self._next, self._lock = 0, 0.25, threading.Lock()

    def __call__(self, amount: int) -> None:
        with self._lock:
            self._sent += amount
            while self._size >= 8 * MB and self._next < 1 and self._sent >= self._size * self._next:
                self._report(f"  {self._label}  {self._next:4.0%}")
                self._next += 0.25


def upload(settings: Settings, files: Sequence[bundle.BundleFile], report: Report) -> DeployResult:
    """Upload ``files`` to ``aws.bucket`` (objects whose stored SHA-256 matches are left alone), then the
    manifest of all of them; one progress line per file."""
    bucket = emr.bucket_of(settings)
    s3 = s3_client(settings)
    result = DeployResult(bucket)
    total = sum(item.size for item in files)
    for number, item in enumerate(files, 1):
        label = f"[{number}/{len(files)}] s3://{bucket}/{item.key} ({item.size / MB:.1f} MB)"
        if _stored_sha(s3, bucket, item.key) == item.sha256:
            result.unchanged.append(item.key)
            report(f"{label}  unchanged")
            continue
        s3.upload_file(
            str(item.path),
            bucket,
            item.key,
            ExtraArgs={"Metadata": {SHA_METADATA: item.sha256}},
            Callback=_Progress(report, label, item.size),
        )
        result.uploaded.append(item.key)
        result.bytes_sent += item.size
        report(f"{label}  uploaded ({result.bytes_sent / MB:.1f} of {total / MB:.1f} MB sent)")
    manifest = {item.key: {"sha256": item.sha256, "size": item.size} for item in files}
    s3.put_object(
        Bucket=bucket,
        Key=bundle.manifest_key(settings),
        Body=json.dumps(manifest, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
    )
    return result


def _stored_sha(s3: Any, bucket: str, key: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return None
    return head.get("Metadata", {}).get(SHA_METADATA)


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
