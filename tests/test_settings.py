from __future__ import annotations

import pytest

from watchlake.errors import ConfigError
from watchlake.settings import load_settings


def test_load_settings_local_defaults() -> None:
    settings = load_settings("local")
    assert settings.env == "local"
    assert settings.kafka.topic == "ticker-watch-data"
    assert settings.catalog.kind == "hive"


def test_load_settings_aws_uses_s3_and_glue() -> None:
    settings = load_settings("aws")
    assert settings.lake.root.startswith("s3://")
    assert settings.catalog.kind == "glue"
    assert settings.warehouse.kind == "redshift"


def test_load_settings_env_var_overrides_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLAKE_KAFKA__PARTITIONS", "5")
    assert load_settings("local").kafka.partitions == 5


def test_load_settings_override_beats_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", "/from/env")
    assert load_settings("local", lake={"root": "/from/override"}).lake.root == "/from/override"


def test_load_settings_bad_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLAKE_TRAIN__NUM_TREES", "many")
    with pytest.raises(ConfigError, match=r"train\.num_trees"):
        load_settings("local")


def test_load_settings_unknown_yaml_key_is_an_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "bad.yaml"
    conf.write_text("kafka:\n  topicc: x\n")
    monkeypatch.setenv("WATCHLAKE_CONF_FILE", str(conf))
    with pytest.raises(ConfigError, match=r"kafka\.topicc"):
        load_settings("local")


def test_load_settings_unknown_env_is_an_error() -> None:
    with pytest.raises(ConfigError, match="unknown environment"):
        load_settings("staging")


def test_password_comes_from_environment_and_is_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLAKE_WAREHOUSE__PASSWORD", "s3cret")
    settings = load_settings("local")
    assert settings.warehouse.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_with_section_changes_one_section_of_a_copy() -> None:
    from watchlake.settings import with_section

    settings = load_settings("local")
    changed = with_section(settings, "stats", warehouse_copy="off")
    assert changed.stats.warehouse_copy == "off"
    assert changed.stats.quantiles == settings.stats.quantiles
    assert changed.generate == settings.generate
    assert settings.stats.warehouse_copy != "off"  # the original is untouched


@pytest.mark.parametrize(
    ("overrides", "keys"),
    [
        (
            {"features": {"window_seconds": 60, "step_seconds": 61}},
            ("features.step_seconds", "window_seconds"),
        ),
        ({"features": {"window_seconds": 301}}, ("features.window_seconds", "labels.span_seconds")),
        ({"labels": {"span_seconds": 30.0}}, ("features.window_seconds", "labels.span_seconds")),
        (
            {"train": {"split_by": "time_block", "time_block_seconds": 59.0}},
            ("train.time_block_seconds", "features.window_seconds"),
        ),
        ({"train": {"promotion_margin": 1.0}}, ("train.promotion_margin", "train.promotion_metric")),
        (
            {"predict": {"confidence_measure": "max_probability", "low_confidence_threshold": 1.5}},
            ("predict.low_confidence_threshold", "predict.confidence_measure"),
        ),
        (
            {"predict": {"confidence_measure": "margin", "low_confidence_threshold": 20}},
            ("predict.low_confidence_threshold", "predict.confidence_measure"),
        ),
        ({"stats": {"quantiles": [0.5, 95.0]}}, ("stats.quantiles", "95.0")),
        ({"kafka": {"dead_letter_topic": "ticker-watch-data"}}, ("kafka.dead_letter_topic", "kafka.topic")),
        (
            {"kafka": {"bootstrap_servers": "127.0.0.1:9093", "controller_port": 9093}},
            ("kafka.controller_port", "kafka.bootstrap_servers"),
        ),
    ],
)
def test_load_settings_contradicting_settings_name_their_keys(overrides, keys) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("local", **overrides)
    for key in keys:
        assert key in str(raised.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"features": {"window_seconds": 60, "step_seconds": 60}},
        {"features": {"window_seconds": 60, "step_seconds": 15}},
        {"features": {"window_seconds": 300}},
        {"train": {"split_by": "time_block", "time_block_seconds": 60.0}},
        {"train": {"split_by": "participant", "time_block_seconds": 1.0}},  # blocks unused
        {"train": {"promotion_margin": 0.99}},
        {"predict": {"confidence_measure": "margin", "low_confidence_threshold": 1.0}},
        {"predict": {"confidence_measure": "entropy", "low_confidence_threshold": 1.8}},  # nats
        {"stats": {"quantiles": [0.0, 1.0]}},
        {"kafka": {"bootstrap_servers": "127.0.0.1:9092", "controller_port": 9093}},
    ],
)
def test_load_settings_accepts_settings_at_the_edge_of_agreement(overrides) -> None:
    load_settings("local", **overrides)


def test_load_settings_reports_every_contradiction_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLAKE_FEATURES__STEP_SECONDS", "120")
    with pytest.raises(ConfigError) as raised:
        load_settings("local", train={"promotion_margin": 2.0})
    message = str(raised.value)
    assert "features.step_seconds (120)" in message and "train.promotion_margin (2)" in message
    assert ": :" not in message and not message.endswith(": ")


def test_with_section_rejects_a_value_that_contradicts_another_section() -> None:
    from watchlake.settings import with_section

    with pytest.raises(ConfigError, match=r"features\.step_seconds \(90\).*features\.window_seconds \(60\)"):
        with_section(load_settings("local"), "features", step_seconds=90)


def test_with_section_validates_values_like_loaded_ones() -> None:
    from watchlake.settings import with_section

    with pytest.raises(ConfigError, match=r"generate\.devices"):
        with_section(load_settings("local"), "generate", devices=0)
    with pytest.raises(ConfigError, match=r"stats\.warehouse_copyy"):
        with_section(load_settings("local"), "stats", warehouse_copyy="off")


def test_load_settings_bucket_comes_from_an_s3_lake_root() -> None:
    assert load_settings("aws").aws.bucket == "watchlake-lake"
    assert load_settings("aws", lake={"root": "s3a://other-lake/prefix"}).aws.bucket == "other-lake"
    assert load_settings("local").aws.bucket == ""


def test_load_settings_refuses_a_bucket_that_is_not_the_lakes() -> None:
    with pytest.raises(ConfigError, match=r"aws\.bucket \(elsewhere\) is not the bucket of lake\.root"):
        load_settings("aws", aws={"bucket": "elsewhere"})
    assert load_settings("aws", aws={"bucket": "watchlake-lake"}).aws.bucket == "watchlake-lake"


def test_load_settings_glue_database_points_at_catalog_database() -> None:
    with pytest.raises(ConfigError, match=r"aws\.glue_database is gone.*catalog\.database"):
        load_settings("aws", aws={"glue_database": "sensors"})
