"""The lake registry on S3 (moto server): versions uploaded with boto3, champion pointer, rollback, scoring."""

from __future__ import annotations

import pytest

from watchlake.errors import ModelError
from watchlake.registry.registry import ModelRegistry
from watchlake.scoring import load_champion, score


@pytest.mark.slow
def test_registry_on_s3_registers_promotes_loads_and_rolls_back(s3_settings, s3_client, spark, tiny_model):
    from fixtures_models import tiny_windows

    registry = ModelRegistry.from_settings(s3_settings)
    meta = {"classes": list(tiny_model.classes), "metrics": {"macro_f1": 0.5}}
    assert registry.register(tiny_model.model, meta) == 1
    assert registry.register(tiny_model.model, meta) == 2
    keys = {item["Key"] for item in s3_client.list_objects_v2(Bucket=s3_settings.aws.bucket)["Contents"]}
    assert "models/activity/versions/2/meta.json" in keys
    assert any(key.startswith("models/activity/versions/1/model/stages/") for key in keys)
    with pytest.raises(ModelError, match="no champion"):
        load_champion(s3_settings, spark)
    registry.set_champion(1)
    registry.set_champion(2)
    champion = load_champion(s3_settings, spark)
    assert champion.version == 2
    scored = score(champion, tiny_windows(spark, rows=20)).collect()
    assert len(scored) == 20
    assert registry.rollback().version == 1
    assert champion.refresh(spark) and champion.version == 1
