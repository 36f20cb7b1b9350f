"""Raw label -> class mapping: normalisation (Python and Spark agree), unknown labels, file validation."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from watchlake.errors import ConfigError
from watchlake.labels.mapping import load_mapping, normalise_label, normalised_label_col
from watchlake.labels.transforms import to_unmapped_labels, with_activity

RAW = [
    "Eat_Start",
    "  eat ",
    "EAT-end",
    "Watch TV",
    "watch_tv_end",
    "Yard work",
    "Phone call",
    "Dance,party",
    "?",
]


@pytest.mark.parametrize(
    ("raw", "key"),
    [("Eat_Start", "eat"), ("  eat ", "eat"), ("EAT-end", "eat"), ("Watch TV", "watch_tv"), ("?", "")],
)
def test_normalise_label_lowercases_strips_and_drops_start_end(raw, key):
    assert normalise_label(raw) == key


def test_normalised_label_col_matches_python(spark):
    frame = spark.createDataFrame([(raw,) for raw in RAW], "raw string")
    got = [row.key for row in frame.select(normalised_label_col(F.col("raw")).alias("key")).collect()]
    assert got == [normalise_label(raw) for raw in RAW]


def test_packaged_mapping_has_twelve_classes_and_fine_labels():
    mapping = load_mapping()
    assert len(mapping.classes) == 12
    assert mapping.class_of("Cook_start") == "Housework"
    assert mapping.class_of("Bus") == "Travel"
    assert mapping.class_of("Lunch") == "Mealtime"
    assert mapping.class_of("something new") == "Ignore"
    assert mapping.class_of("   ") is None


def test_with_activity_maps_in_spark_like_python(spark):
    mapping = load_mapping()
    raws = [*RAW, None, "Klingon"]
    frame = spark.createDataFrame([(raw,) for raw in raws], "label_raw string")
    got = [row.activity for row in with_activity(frame, mapping).collect()]
    assert got == [mapping.class_of(raw) for raw in raws]
    assert got[:3] == ["Mealtime"] * 3 and got[-1] == "Ignore"


def test_to_unmapped_labels_counts_prompts(spark):
    frame = spark.createDataFrame(
        [("Klingon",), ("Klingon",), ("Eat",), (None,), ("Zzz",)], "user_activity_label string"
    )
    got = {row.label: row.prompts for row in to_unmapped_labels(frame, load_mapping()).collect()}
    assert got == {"Klingon": 2, "Zzz": 1}


def test_load_mapping_rejects_conflicting_raw_label(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("classes: [Work, Relax]\nmapping:\n  Work: [office]\n  Relax: [Office_start]\n")
    with pytest.raises(ConfigError, match="maps to both"):
        load_mapping(str(path))


def test_load_mapping_rejects_undeclared_class(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("classes: [Work]\nmapping:\n  Play: [game]\n")
    with pytest.raises(ConfigError, match="undeclared"):
        load_mapping(str(path))


def test_packaged_mapping_covers_sample_generator_variants():
    from watchlake.casas import activities

    mapping = load_mapping()
    wrong = {
        raw: mapping.class_of(raw)
        for target, raws in activities.RAW_LABELS.items()
        for raw in raws
        if mapping.class_of(raw) != target
    }
    assert wrong == {}
