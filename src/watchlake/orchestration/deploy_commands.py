"""``watchlake aws deploy``: put the code bundle in the lake's bucket and the project's EMR cluster up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from watchlake.commandline import add_command, settings_of

_DESCRIPTION = """\
Deploy watchlake to AWS (or to moto, with aws.endpoint_url on loopback) for the emr target:
  1. build the code bundle: the watchlake wheel (from this checkout, or --wheel), the JVM jars Spark needs on EMR
     (jvm/lib/functions and jvm/lib/spark-kafka from scripts/fetch-jars.sh; not the Kafka broker, not S3A: EMRFS
     serves s3:// there) and spark_jobs/*.py;
  2. upload it to s3://<bucket>/<orchestration.emr.code_prefix>/ (wheel/, jars/<folder>/, spark_jobs/, and
     bundle.json listing every key with its SHA-256), and the bootstrap action that installs it on every node to
     orchestration.emr.bootstrap_script_key; a file whose stored SHA-256 matches is not sent again; one line of
     progress per file (and per quarter of a large one);
  3. reuse the cluster of aws.emr_cluster_id, or an active one tagged orchestration.emr.tags, or create one
     (orchestration.emr.*: release, instances, Glue as the metastore when catalog.kind is glue, the bootstrap
     action, tags, idle auto-termination);
  4. with --steps PIPELINE: add that pipeline's Spark stages as steps (spark-submit of spark_jobs/<stage>.py).
The bucket is lake.root's (aws.bucket). Credentials come from the AWS credential chain (environment, profile,
instance role), never from settings. `init.sh` in AWS mode runs `watchlake aws deploy --scripts-only`.
"""

PIPELINE_NAMES = {"batch": "watchlake_batch", "train": "watchlake_train"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "aws",
        help="AWS operations: deploy the code bundle and the EMR cluster",
        description="AWS operations for the emr target. See `watchlake aws deploy --help`.",
    )
    # `watchlake aws` alone lists its actions (and exits 2, as a missing argument does).
    parser.set_defaults(handler=lambda _args: parser.print_help() or 2)
    actions = parser.add_subparsers(dest="aws_command", metavar="<action>")
    deploy = add_command(
        actions,
        "deploy",
        _deploy,
        help="upload the code bundle, create or reuse the EMR cluster, add steps",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    deploy.add_argument("--wheel", type=Path, default=None, help="upload this wheel instead of building one")
    deploy.add_argument(
        "--scripts-only", action="store_true", help="upload only spark_jobs/*.py (no wheel, jars or cluster)"
    )
    deploy.add_argument("--no-cluster", action="store_true", help="upload the bundle, touch no cluster")
    deploy.add_argument(
        "--steps",
        choices=sorted(PIPELINE_NAMES),
        default=None,
        help="add the Spark steps of this pipeline (batch: clean, stats; train: features, train)",
    )


def _deploy(args: argparse.Namespace) -> int:
    from watchlake.orchestration.deploy import deploy

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = deploy(
        settings_of(args),
        report,
        wheel=args.wheel,
        scripts_only=args.scripts_only,
        cluster=not args.no_cluster,
        steps_of=PIPELINE_NAMES[args.steps] if args.steps else None,
    )
    cluster = f"; cluster {result.cluster_id}" if result.cluster_id else ""
    steps = f"; steps {', '.join(result.step_ids)}" if result.step_ids else ""
    print(
        f"aws deploy: {len(result.uploaded)} uploaded ({result.bytes_sent / 2**20:.1f} MB), "
        f"{len(result.unchanged)} unchanged, to s3://{result.bucket}{cluster}{steps}"
    )
    return 0
