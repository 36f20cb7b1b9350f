"""Which EMR cluster the emr target uses: ``aws.emr_cluster_id`` when pinned, else the first active cluster with
the project's tags, against a moto server with the real boto3 client."""

from __future__ import annotations

from typing import Any

import pytest

from watchlake.errors import OrchestrationError
from watchlake.orchestration import emr
from watchlake.orchestration.emr_runner import find_cluster
from watchlake.settings import Settings, with_section


@pytest.fixture
def emr_client(s3_settings: Settings) -> Any:
    import boto3

    return boto3.client("emr", endpoint_url=s3_settings.aws.endpoint_url, region_name=s3_settings.aws.region)


def _cluster(client: Any, settings: Settings, tagged: bool) -> str:
    request = emr.cluster_request(settings)
    if not tagged:
        request = {**request, "Tags": [{"Key": "project", "Value": "someone-else"}]}
    return str(client.run_job_flow(**request)["JobFlowId"])


def test_find_cluster_pinned_id_wins_over_the_tagged_one(s3_settings: Settings, emr_client: Any) -> None:
    tagged = _cluster(emr_client, s3_settings, tagged=True)
    other = _cluster(emr_client, s3_settings, tagged=False)
    pinned = with_section(s3_settings, "aws", emr_cluster_id=other)

    assert find_cluster(pinned, emr_client) == other
    assert find_cluster(s3_settings, emr_client) in {tagged, *_tagged_clusters(emr_client, s3_settings)}


def test_find_cluster_refuses_a_pinned_cluster_that_ended(s3_settings: Settings, emr_client: Any) -> None:
    ended = _cluster(emr_client, s3_settings, tagged=False)
    emr_client.terminate_job_flows(JobFlowIds=[ended])
    pinned = with_section(s3_settings, "aws", emr_cluster_id=ended)

    with pytest.raises(OrchestrationError, match=f"aws.emr_cluster_id {ended} is TERMINATED"):
        find_cluster(pinned, emr_client)


def _tagged_clusters(client: Any, settings: Settings) -> set[str]:
    """Every active project-tagged cluster on the (shared) moto server: earlier tests may have made some."""
    summaries = client.list_clusters(ClusterStates=list(emr.ACTIVE_STATES))["Clusters"]
    return {
        item["Id"]
        for item in summaries
        if emr.is_project_cluster(settings, client.describe_cluster(ClusterId=item["Id"])["Cluster"]["Tags"])
    }
