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
