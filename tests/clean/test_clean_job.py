"""The clean job on a tiny lake: counts per reason, the invariant, overwrite on rerun, catalog tables, format edges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from casas_lines import HEADER_ROWS, line, write_casas
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from conftest import make_settings
from watchlake.clean import job, readings
from watchlake.clean.files import StagedFile
from watchlake.errors import DataQualityError, FormatError, IngestError
from watchlake.lake import Lake
from watchlake.schemas import REJECT_REASONS

pytestmark = pytest.mark.slow

P1 = [  # CRLF
    line(stamp="2019-06-01 10:00:00.100000"),
    line(stamp="2019-06-01 10:00:00.2"),
    line(stamp="2019-06-01 10:00:00.123456", label='"Eat, Drink"'),
    line(stamp="2019-06-01 10:00:00.4"),  # a repeated row, written twice by CASAS
    line(stamp="2019-06-01 10:00:00.4"),
    line(stamp="2019-06-02 08:00:00.000000", motion="1e-05,-2.5e-06,1E+2,0,0,0,0,0,0", location=",,,,,,,"),
    line(battery="charging"),
    line(battery="charging"),
    line(motion=",0,0,0,0,0,0,0,0"),
    line(location="house,1.2.3,,,,,,"),
    line(battery="Unplugged"),
    line(battery="full"),
    line(stamp="2019-06-01 10:00:00.5", battery="unknown"),  # battery monitoring off: still worn, kept
    line(stamp="2019-06-01 10:00:00.1234567"),
    line() + ",extra",
]
P2 = [
    line(stamp="2019-06-03 00:00:00.5", label="Relax"),
    line(stamp="2019-06-03 00:00:00.6"),
    line(battery="charging"),
]
P4 = [line(stamp="2019-06-04 12:00:00.1"), line(stamp="2019-06-04 12:00:00.2")]
TRUNCATED = line(stamp="2019-06-04 12:00:00.3")[:60]  # the last line, cut mid-row, no line end
EXPECTED_REASONS = {
    "wrong_field_count": 2,
    "unparseable_stamp": 1,
    "missing_motion": 1,
    "unparseable_number": 1,
    "invalid_battery_state": 1,
    "charging": 3,
    "full": 1,
}


def _stage(settings) -> Path:
    staging = Path(Lake.from_settings(settings).staging)
    write_casas(staging / "group1" / "sw1.p1.csv", P1)
    write_casas(staging / "group2" / "nested" / "sw1.p2.csv", P2, newline="\n")
    (staging / "group2" / "sw1.p3.csv").write_bytes(b"")
    path = write_casas(staging / "group3" / "sw1.p4.csv", P4)
    path.write_bytes(path.read_bytes() + TRUNCATED.encode())
    return staging


@pytest.fixture(scope="module")
def cleaned(spark, tmp_path_factory: pytest.TempPathFactory):
    """Settings of a staged tiny lake and the results of cleaning it twice."""
    settings = make_settings(tmp_path_factory.mktemp("clean_job"))
    _stage(settings)
    return settings, job.run(settings, spark), job.run(settings, spark)


def test_run_counts_rows_per_reject_reason(cleaned) -> None:
    _, first, _ = cleaned
    assert first.rejected_by_reason == EXPECTED_REASONS
    assert list(first.rejected_by_reason) == list(REJECT_REASONS)


def test_run_rows_in_equal_rows_kept_plus_rows_rejected(cleaned) -> None:
    _, first, _ = cleaned
    assert (first.files, first.rows_in) == (3, len(P1) + len(P2) + len(P4) + 1)
    assert first.rows_kept == 7 + 2 + 2
    assert first.rows_in == first.rows_kept + first.rows_rejected


def test_run_skips_an_empty_file(cleaned) -> None:
    _, first, _ = cleaned
    assert [Path(path).name for path in first.empty_files] == ["sw1.p3.csv"]


def test_run_reads_small_and_large_files_into_the_same_outputs(spark, cleaned, tmp_path, monkeypatch) -> None:
    # Files at or above PER_FILE_SCAN_MIN_BYTES get a scan each; the tiny lake's files share one scan.
    settings, first, _ = cleaned
    per_file = make_settings(tmp_path)
    _stage(per_file)
    monkeypatch.setattr(readings, "PER_FILE_SCAN_MIN_BYTES", 1)
    assert job.run(per_file, spark).rejected_by_reason == first.rejected_by_reason
    for name in ("readings", "rejected_readings"):
        shared, separate = (
            spark.read.parquet(getattr(Lake.from_settings(s), name)).withColumn(
                "source_file",
                F.replace("source_file", F.lit(str(Path(s.lake.root).resolve())), F.lit("<lake>")),
            )
            for s in (settings, per_file)
        )
        assertDataFrameEqual(separate, shared)


def test_run_twice_replaces_the_outputs(spark, cleaned) -> None:
    settings, first, second = cleaned
    lake = Lake.from_settings(settings)
    assert (second.rows_kept, second.rejected_by_reason) == (first.rows_kept, first.rejected_by_reason)
    assert spark.read.parquet(lake.readings).count() == first.rows_kept
    assert spark.read.parquet(lake.rejected_readings).count() == first.rows_rejected


def test_run_registers_catalog_tables_partitioned_by_participant_and_date(spark, cleaned) -> None:
    settings, first, _ = cleaned
    lake = Lake.from_settings(settings)
    readings = spark.table(lake.readings_table)
    assert readings.count() == first.rows_kept
    partitions = {row[0] for row in spark.sql(f"SHOW PARTITIONS {lake.readings_table}").collect()}
    assert partitions == {
        "participant=p1/date=2019-06-01",
        "participant=p1/date=2019-06-02",
        "participant=p2/date=2019-06-03",
        "participant=p4/date=2019-06-04",
    }
    by_reason = spark.table(lake.rejected_table).groupBy("reason").count().collect()
    assert {row["reason"]: row["count"] for row in by_reason} == EXPECTED_REASONS


def test_run_keeps_unknown_battery_rows_as_wear_time(spark, cleaned) -> None:
    settings, _, _ = cleaned
    readings = spark.table(Lake.from_settings(settings).readings_table)
    states = {row[0]: row[1] for row in readings.groupBy("battery_state").count().collect()}
    assert states == {"unplugged": 10, "unknown": 1}


def test_run_parses_quoted_labels_exponents_fractions_and_line_ends(spark, cleaned) -> None:
    settings, _, _ = cleaned
    readings = spark.table(Lake.from_settings(settings).readings_table)
    picked = readings.where(F.col("user_activity_label").isNotNull() | (F.col("yaw") != 0.5))
    expected = spark.createDataFrame(
        [
            ("p1", dt.datetime(2019, 6, 1, 10, 0, 0, 123456), 0.5, -0.25, "Eat, Drink", "house"),
            ("p1", dt.datetime(2019, 6, 2, 8), 1e-05, -2.5e-06, None, None),
            ("p2", dt.datetime(2019, 6, 3, 0, 0, 0, 500000), 0.5, -0.25, "Relax", "house"),
        ],
        "participant string, stamp timestamp, yaw double, pitch double, user_activity_label string, "
        "location_type string",
    )
    assertDataFrameEqual(picked.select(*expected.columns), expected)
    fractions = readings.where("participant = 'p1' and date = '2019-06-01'").select("stamp")
    assert sorted(row[0].microsecond for row in fractions.collect()) == [
        100000,
        123456,
        200000,
        400000,
        400000,
        500000,
    ]


def test_run_rejects_a_truncated_last_line_whole(spark, cleaned) -> None:
    settings, _, _ = cleaned
    rejected = spark.table(Lake.from_settings(settings).rejected_table).where("participant = 'p4'")
    assert [(row["line"], row["reason"]) for row in rejected.collect()] == [(TRUNCATED, "wrong_field_count")]


def test_run_drops_outputs_of_files_no_longer_staged(spark, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    staging = _stage(settings)
    job.run(settings, spark)
    (staging / "group1" / "sw1.p1.csv").unlink()
    result = job.run(settings, spark)
    readings = spark.read.parquet(Lake.from_settings(settings).readings)
    assert readings.count() == result.rows_kept == 4
    assert {row[0] for row in readings.select("participant").distinct().collect()} == {"p2", "p4"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ((HEADER_ROWS[0].replace("yaw,pitch", "pitch,yaw"), HEADER_ROWS[1]), "row 1 (field names)"),
        ((HEADER_ROWS[0], HEADER_ROWS[1].replace("dt,f", "dt,s")), "row 2 (field types)"),
        ((HEADER_ROWS[0],), "row 2 (field types) is missing"),
    ],
)
def test_run_cleans_the_other_files_and_names_one_with_wrong_header_rows(
    spark, settings, header, message: str
) -> None:
    staging = Path(Lake.from_settings(settings).staging)
    write_casas(staging / "g" / "sw1.p1.csv", [line(), line()])
    write_casas(staging / "g" / "sw1.p9.csv", [line()] if len(header) > 1 else [], header=header)
    with pytest.raises(
        FormatError,
        match=r"1 of 2 staged file\(s\) failed the header check .*sw1\.p9\.csv: "
        + message.replace("(", r"\(").replace(")", r"\)"),
    ):
        job.run(settings, spark)
    cleaned = spark.read.parquet(Lake.from_settings(settings).readings)
    assert sorted(cleaned.groupBy("participant").count().collect()) == [("p1", 2)]


def test_run_keeps_the_earlier_readings_of_a_file_that_now_fails(spark, settings) -> None:
    lake = Lake.from_settings(settings)
    staging = Path(lake.staging)
    write_casas(staging / "g" / "sw1.p1.csv", [line(), line()])
    write_casas(staging / "g" / "sw1.p9.csv", [line(stamp="2019-06-05 09:00:00.1")])
    job.run(settings, spark)
    write_casas(staging / "g" / "sw1.p1.csv", [line()] * 3)  # p1 changes and is cleaned again
    write_casas(staging / "g" / "sw1.p9.csv", [], header=(HEADER_ROWS[0],))  # re-staged broken
    with pytest.raises(FormatError, match=r"sw1\.p9\.csv: row 2 \(field types\) is missing"):
        job.run(settings, spark)
    cleaned = spark.read.parquet(lake.readings)
    assert sorted(cleaned.groupBy("participant").count().collect()) == [("p1", 3), ("p9", 1)]


def test_run_without_staged_files_says_to_ingest_first(spark, settings) -> None:
    with pytest.raises(IngestError, match="watchlake ingest"):
        job.run(settings, spark)


def test_run_with_catalog_none_writes_without_registering(spark, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, catalog={"kind": "none", "database": "clean_none_db"})
    write_casas(
        Path(Lake.from_settings(settings).staging) / "g" / "sw1.p5.csv", [line(), line(battery="unknown")]
    )
    result = job.run(settings, spark)
    assert (result.rows_kept, result.rows_rejected) == (2, 0)
    assert not spark.catalog.databaseExists("clean_none_db")


def test_checked_counts_raises_when_rows_go_missing() -> None:
    lines = {"lines": 12, "header_lines": 2}
    rejected = {"rows": 3, **dict.fromkeys(REJECT_REASONS, 0), "charging": 3}
    staged = [StagedFile("sw1.p1.csv", "p1", 100)]
    with pytest.raises(DataQualityError, match=r"rows in \(10\) != rows kept \(6\) \+ rows rejected \(3"):
        readings.checked_counts(staged, staged, lines, {"rows": 6}, rejected, 0.0)


@pytest.mark.parametrize("folder", ["plain", "with space", "accentué"])
def test_metadata_path_spells_a_listed_path_as_the_scan_does(spark, tmp_path, folder) -> None:
    # A per-file scan writes this constant as source_file; a shared scan writes _metadata.file_path.
    from watchlake.clean.files import metadata_path

    write_casas(tmp_path / folder / "sw1.p1.csv", [line()])
    text = spark.read.option("recursiveFileLookup", "true").text(str(tmp_path / folder))
    (listed,) = text.inputFiles()
    assert metadata_path(spark, listed) == text.select("_metadata.file_path").first()[0]
