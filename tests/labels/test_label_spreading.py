"""Label spreading: the CASAS 300 s span, the overlap rule, edges, participants kept apart, backward jumps."""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.testing import assertDataFrameEqual

from watchlake.labels.transforms import with_spread_labels

T0 = datetime(2020, 1, 1, 12, 0, 0)
SCHEMA = "participant string, stamp timestamp, user_activity_label string"


def _rows(spark, rows):
    return spark.createDataFrame([(p, T0 + timedelta(seconds=s), label) for p, s, label in rows], SCHEMA)


def _spread(spark, rows, span=300.0):
    labelled = with_spread_labels(_rows(spark, rows), span)
    return labelled.select("participant", "stamp", "label_raw")


def _expected(spark, rows):
    return spark.createDataFrame(
        [(p, T0 + timedelta(seconds=s), label) for p, s, label in rows],
        "participant string, stamp timestamp, label_raw string",
    )


def test_with_spread_labels_covers_span_before_label_inclusive(spark):
    rows = [("p1", -1, None), ("p1", 0, None), ("p1", 150, None), ("p1", 300, "Eat"), ("p1", 301, None)]
    expected = [("p1", -1, None), ("p1", 0, "Eat"), ("p1", 150, "Eat"), ("p1", 300, "Eat"), ("p1", 301, None)]
    assertDataFrameEqual(_spread(spark, rows), _expected(spark, expected))


def test_with_spread_labels_earlier_label_keeps_overlapping_rows(spark):
    # Work at 300 covers [0, 300]; Relax at 400 would reach back to 100, but waits until Work's span ends.
    rows = [("p1", 50, None), ("p1", 250, None), ("p1", 300, "Work"), ("p1", 350, None), ("p1", 400, "Relax")]
    expected = [
        ("p1", 50, "Work"),
        ("p1", 250, "Work"),
        ("p1", 300, "Work"),
        ("p1", 350, "Relax"),
        ("p1", 400, "Relax"),
    ]
    assertDataFrameEqual(_spread(spark, rows), _expected(spark, expected))


def test_with_spread_labels_gap_longer_than_span_stays_unlabelled(spark):
    rows = [("p1", 0, "Work"), ("p1", 100, None), ("p1", 600, None), ("p1", 1000, "Sleep")]
    expected = [("p1", 0, "Work"), ("p1", 100, None), ("p1", 600, None), ("p1", 1000, "Sleep")]
    assertDataFrameEqual(_spread(spark, rows), _expected(spark, expected))


def test_with_spread_labels_keeps_participants_apart(spark):
    # p2's label must not reach p1's rows even though the stamps are within the span.
    rows = [("p1", 0, None), ("p1", 10, None), ("p2", 0, None), ("p2", 20, "Travel")]
    expected = [("p1", 0, None), ("p1", 10, None), ("p2", 0, "Travel"), ("p2", 20, "Travel")]
    assertDataFrameEqual(_spread(spark, rows), _expected(spark, expected))


def test_with_spread_labels_orders_by_stamp_after_backward_jump(spark):
    # File order: 1000, 1100, then the clock jumps back to 900 and 950 (label). By stamp, the label at 950
    # covers 900 and 950 only; rows stamped after it (1000, 1100) are not labelled by it.
    rows = [("p1", 1000, None), ("p1", 1100, None), ("p1", 900, None), ("p1", 950, "Cook")]
    expected = [("p1", 1000, None), ("p1", 1100, None), ("p1", 900, "Cook"), ("p1", 950, "Cook")]
    assertDataFrameEqual(_spread(spark, rows), _expected(spark, expected))


def test_with_spread_labels_same_stamp_rows_take_the_label_and_blank_is_no_label(spark):
    rows = [("p1", 10, None), ("p1", 10, "Bathe"), ("p1", 20, "  "), ("p1", 30, None)]
    expected = [("p1", 10, "Bathe"), ("p1", 10, "Bathe"), ("p1", 20, None), ("p1", 30, None)]
    assertDataFrameEqual(_spread(spark, rows), _expected(spark, expected))


def test_with_spread_labels_span_is_configurable_and_sets_label_stamp(spark):
    rows = [("p1", 0, None), ("p1", 55, None), ("p1", 60, "Walk ")]
    labelled = with_spread_labels(_rows(spark, rows), 10.0).select("stamp", "label_raw", "label_stamp")
    at = T0 + timedelta(seconds=60)
    expected = spark.createDataFrame(
        [(T0, None, None), (T0 + timedelta(seconds=55), "Walk", at), (at, "Walk", at)],
        "stamp timestamp, label_raw string, label_stamp timestamp",
    )
    assertDataFrameEqual(labelled, expected)
