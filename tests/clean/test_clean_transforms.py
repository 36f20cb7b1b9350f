"""Unit tests of the clean transforms on tiny inline lines."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import re

import pytest
from casas_lines import HEADER_ROWS, MOTION, line
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from watchlake.casas.format import PARTICIPANT_PATTERN, STAMP_PATTERN, TYPES_LINE
from watchlake.clean import transforms
from watchlake.jvm import PARSE_CASAS_LINE
from watchlake.schemas import (
    BATTERY_STATES,
    CASAS_FIELDS,
    MOTION_FIELDS,
    READINGS,
    REJECT_REASONS,
    REJECTED_READINGS,
)

FILE = "file:///lake/staging/group1/sw1.p12.csv"


def _lines(spark, *values: str, source: str = FILE):
    participant = re.search(PARTICIPANT_PATTERN, source).group(1)
    return spark.createDataFrame([(source, participant, value) for value in values], transforms.LINES_DDL)


def _reasons(spark, *values: str) -> list[str | None]:
    """Each line's reject reason, asked alone and from the parse (the two must agree)."""
    rows = _lines(spark, *values).select(
        transforms.reject_reason().alias("alone"),
        F.call_function(PARSE_CASAS_LINE, "value")["reason"].alias("parsed"),
    )
    alone, parsed = zip(*rows.collect(), strict=True) if values else ((), ())
    assert alone == parsed
    return list(alone)


def test_select_data_lines_drops_exactly_the_header_rows(spark) -> None:
    lines = _lines(spark, *HEADER_ROWS, line(), "stamp,yaw", "dt,f")
    expected = _lines(spark, line(), "stamp,yaw", "dt,f")
    assertDataFrameEqual(transforms.select_data_lines(lines), expected)


def test_with_typed_fields_splits_at_every_comma_counting_empty_fields_as_null(spark) -> None:
    values = ("a,,b,", "", line(), line() + ",", line().replace("house", ""))
    typed = transforms.with_typed_fields(_lines(spark, *values))
    rows = typed.select("field_count", "location_type", "user_activity_label", "yaw").collect()
    assert [tuple(row) for row in rows] == [
        (4, None, None, None),
        (1, None, None, None),
        (20, "house", None, 0.5),
        (21, "house", None, 0.5),
        (20, None, None, 0.5),
    ]


def test_with_typed_fields_keeps_a_quoted_comma_inside_its_field(spark) -> None:
    value = line(label='"Eat, Drink"').replace("house", '"house"')
    typed = transforms.with_typed_fields(_lines(spark, value))
    row = typed.select("field_count", "location_type", "user_activity_label", "yaw").first()
    assert tuple(row) == (20, "house", "Eat, Drink", 0.5)


def test_with_typed_fields_does_not_read_a_quoted_number(spark) -> None:
    value = line(label='"Eat, Drink"').replace("0.98", '"0.98"', 1)
    assert _reasons(spark, value) == ["unparseable_number"]


def test_with_typed_fields_splits_quoted_lines_as_the_pattern_does(spark) -> None:
    """The Java split of a line with quotes equals regexp_extract_all(FIELD_PATTERN), malformed quoting included."""
    odd = ['x,"a""b",,"c', '"x"y,z', ',"",""""', 'a"b,"c,d"e', '""', '"', 'a,"b,c",d,"e']
    lines = _lines(spark, *odd)
    pattern = transforms.FIELD_PATTERN
    expected = lines.select(F.size(F.regexp_extract_all("value", F.lit(pattern), F.lit(1))).alias("n"))
    typed = transforms.with_typed_fields(lines).select(F.col("field_count").alias("n"))
    assert [row.n for row in typed.collect()] == [row.n for row in expected.collect()]


def test_participant_of_takes_the_id_from_the_file_name(spark) -> None:
    paths = spark.createDataFrame(
        [("s3://bucket/staging/group2/deep/sw1.p7.csv",), ("file:///x/other.csv",), ("file:///x/sw1.p.csv",)],
        "path string",
    )
    participants = paths.select(transforms.participant_of(F.col("path")).alias("participant"))
    assertDataFrameEqual(
        participants, spark.createDataFrame([("p7",), (None,), (None,)], "participant string")
    )


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2019-06-01 10:00:00.100000", dt.datetime(2019, 6, 1, 10, 0, 0, 100000)),
        ("2019-06-01 10:00:00.1", dt.datetime(2019, 6, 1, 10, 0, 0, 100000)),
        ("2019-06-01 23:59:59.123456", dt.datetime(2019, 6, 1, 23, 59, 59, 123456)),
        ("2019-06-01 10:00:00.05", dt.datetime(2019, 6, 1, 10, 0, 0, 50000)),
        ("2019-06-01 10:00:00", None),
        ("2019-06-01 10:00:00.1234567", None),
        ("2019-06-01T10:00:00.1", None),
        ("2019-06-01 25:61:00.100000", None),
        ("06/01/2019 10:00:00.1", None),
        ("", None),
    ],
)
def test_with_typed_fields_parses_stamps_with_1_to_6_fraction_digits(spark, stamp: str, expected) -> None:
    typed = transforms.with_typed_fields(_lines(spark, line(stamp=stamp)))
    assert typed.select("stamp").first()[0] == expected


def test_with_typed_fields_reads_repr_and_exponent_floats_and_empty_as_null(spark) -> None:
    value = line(motion="1e-05,-2.5e-06,0.1,1.7976931348623157e+308,-0.0,3,0.30000000000000004,1E5,.5")
    value = value.replace("house,0.001,-0.002", "house,,-0.002")
    typed = transforms.with_typed_fields(_lines(spark, value))
    columns = ("yaw", "pitch", "roll", "rotation_rate_x", "user_acceleration_y", "user_acceleration_z")
    columns += ("latitude_distance_from_mean", "longitude_distance_from_mean")
    expected = spark.createDataFrame(
        [(1e-05, -2.5e-06, 0.1, 1.7976931348623157e308, 1e5, 0.5, None, -0.002)],
        ", ".join(f"{name} double" for name in columns),
    )
    assertDataFrameEqual(typed.select(*columns), expected)


def test_with_typed_fields_unquotes_string_fields_and_empties_to_null(spark) -> None:
    value = line(location=",,,,,,,", battery="", label='"Eat, ""fast"" food"')
    typed = transforms.with_typed_fields(_lines(spark, value))
    expected = spark.createDataFrame(
        [(None, None, 'Eat, "fast" food')],
        "location_type string, battery_state string, user_activity_label string",
    )
    assertDataFrameEqual(typed.select("location_type", "battery_state", "user_activity_label"), expected)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (line(), None),
        (line(battery="unknown", label='"Relax, TV"'), None),
        (line(location=",,,,,,,", battery=""), None),
        (line() + ",", "wrong_field_count"),
        (line()[:-3], "wrong_field_count"),
        ("", "wrong_field_count"),
        (line(stamp="", motion=",,,,,,,,", battery="charging"), "unparseable_stamp"),
        (line(stamp="2019-06-01 10:00:00", battery="charging"), "unparseable_stamp"),
        (line(motion="0.5,,1,1,1,1,1,1,x", battery="charging"), "missing_motion"),
        (line(motion=MOTION.replace("0.98", "1.2.3"), battery="bogus"), "unparseable_number"),
        (line(location="house,n/a,,,,,,"), "unparseable_number"),
        (line(battery="Charging"), "invalid_battery_state"),
        (line(battery="Full"), "invalid_battery_state"),
        (line(battery="discharging"), "invalid_battery_state"),
        (line(battery="charging"), "charging"),
        (line(battery="full", label="Relax"), "full"),
    ],
)
def test_with_reject_reason_gives_the_first_applicable_reason(spark, value: str, reason: str | None) -> None:
    assert _reasons(spark, value) == [reason]


def test_with_reject_reason_uses_only_the_declared_reasons(spark) -> None:
    values = ["", line(stamp=""), line(motion=",,,,,,,,"), line(location="x,y,,,,,,"), line(battery="b")]
    values += [line(battery="charging"), line(battery="full")]
    assert _reasons(spark, *values) == list(REJECT_REASONS)


def test_split_readings_types_kept_rows_and_keeps_rejected_lines_whole(spark) -> None:
    kept_line = line(label='"Eat, Drink"')
    readings, rejected = transforms.split_readings(_lines(spark, kept_line, line(battery="charging")))
    row = (
        "p12",
        dt.datetime(2019, 6, 1, 10, 0, 0, 100000),
        0.5, -0.25, 1e-05, 0.1, 0.2, 0.3, -0.0125, 0.98, 0.0,
        "house",
        0.001, -0.002, 3.5, 90.0, 1.25, 5.0, 3.0,
        "unplugged",
        "Eat, Drink",
        FILE,
        dt.date(2019, 6, 1),
    )  # fmt: skip
    assertDataFrameEqual(readings, spark.createDataFrame([row], READINGS))
    expected_rejected = spark.createDataFrame(
        [("p12", FILE, line(battery="charging"), "charging")], REJECTED_READINGS
    )
    assertDataFrameEqual(rejected, expected_rejected)
    assert [field.name for field in readings.schema] == READINGS.fieldNames()
    assert [field.dataType for field in readings.schema] == [field.dataType for field in READINGS]


def test_split_readings_keeps_repeated_identical_rows(spark) -> None:
    readings, rejected = transforms.split_readings(_lines(spark, line(), line(), line()))
    assert readings.count() == 3
    assert rejected.count() == 0


def test_reject_reason_agrees_with_the_casas_format_reader(spark) -> None:
    from watchlake.casas import format as casas_format

    values = [
        line(),
        line(stamp="not a stamp"),
        line(stamp="2019-06-01 25:61:00.100000"),
        line(motion=MOTION.replace("0.98", "0.5x")),
        line(motion=MOTION.replace("0.98", "--0.25")),
        line(location="house,nan,inf,-inf,1e-05,,,"),
        line(battery="discharging"),
        line(battery="low", label='"a, b"'),
        line(battery="charging"),
        line(battery="full"),
        line(battery="unknown"),
        line(battery="UNKNOWN"),
        line()[:40],
    ]
    python_reasons = [casas_format.reject_reason(next(csv.reader([value]))) for value in values]
    assert _reasons(spark, *values) == python_reasons


@pytest.mark.parametrize(
    "text",
    ["0.15615810401889552", "-2.8564538972370843", "1e-05", "-1.5E+10", "  3.25 ", "7", ".5", "5.", "0x1p3",
     "1.0d", "inf", "-Infinity", "NaN", "nan", "+nan", " ", "abc", "1.2.3", "--1", "1e"],
)  # fmt: skip
def test_typed_floats_agree_with_try_cast(spark, text) -> None:
    # The line parser (ParseCasasLine) replaces try_cast(.. AS DOUBLE) in the clean job: same value or null.
    frame = transforms.with_typed_fields(_lines(spark, line(motion=MOTION.replace("0.98", text))))
    fast, cast = frame.select("user_acceleration_y", F.lit(text).try_cast("double")).first()
    assert fast == cast or (math.isnan(fast) and math.isnan(cast))


def test_typed_floats_are_exact_on_repr_floats(spark) -> None:
    rng = random.Random(7)
    values = [rng.gauss(0, 1) * 10 ** rng.randint(-8, 8) for _ in range(20_000)]
    lines = _lines(spark, *(line(motion=MOTION.replace("0.98", repr(value))) for value in values))
    parsed = [row[0] for row in transforms.with_typed_fields(lines).select("user_acceleration_y").collect()]
    assert parsed == values


def test_typed_stamps_agree_with_the_formatter_on_random_stamps(spark) -> None:
    # The line parser (ParseCasasLine) replaces try_to_timestamp(s, STAMP_PATTERN) in the clean job.
    rng = random.Random(3)
    stamps = []
    for _ in range(3000):
        fields = [rng.randint(1, 9999), rng.randint(0, 13), rng.randint(0, 32), rng.randint(0, 24)]
        fields += [rng.randint(0, 60), rng.randint(0, 60)]
        digits = rng.randint(0, 7)
        fraction = "." + "".join(rng.choice("0123456789") for _ in range(digits)) if digits else ""
        stamps.append("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*fields) + fraction)
    stamps += [
        "2019-06-01 10:00:00.1Z",
        "2019-06-01 10:00:00.+1",
        "2019-06-01 10:00:00. 1",
        "2020-02-29 00:00:00.5",
    ]
    typed = transforms.with_typed_fields(_lines(spark, *(line(stamp=stamp) for stamp in stamps)))
    compared = typed.select(
        F.col("stamp").alias("fast"),
        F.try_to_timestamp(F.substring_index("value", ",", 1), F.lit(STAMP_PATTERN)).alias("formatter"),
    )
    differing = compared.where(~F.col("fast").eqNullSafe(F.col("formatter"))).limit(5).collect()
    assert differing == []
    assert compared.where(F.col("fast").isNotNull()).count() > 300  # valid stamps were among them


def test_the_java_parser_holds_the_split_pattern_fields_and_rules_defined_in_python(spark) -> None:
    """CasasLineParser carries its own copy of the pattern, the field types, the reasons and the battery states."""
    parser = spark.sparkContext._jvm.watchlake.functions.CasasLineParser
    assert parser.FIELD_PATTERN == transforms.FIELD_PATTERN
    assert parser.TYPES_LINE == TYPES_LINE
    assert list(parser.REJECT_REASONS) == list(REJECT_REASONS)
    assert list(parser.BATTERY_STATES) == list(BATTERY_STATES)
    motion = list(range(parser.FIRST_MOTION_FIELD, parser.LAST_MOTION_FIELD + 1))
    assert motion == [CASAS_FIELDS.index(name) for name in MOTION_FIELDS]
    assert CASAS_FIELDS.index("battery_state") == parser.BATTERY_FIELD


# Lines that take every branch of the Java parser: quotes, non-ASCII text, a line longer than its first buffer.
ODD_LINES = [
    line(),
    line(label="Café"),
    line(label='"Café, süß"', battery='"unknown"'),
    line(location="hôtel,0.001,-0.002,3.5,90.0,1.25,5.0,3.0"),
    line(motion=MOTION.replace("0.98", "\uff10.98")),  # a full-width digit: not a number
    line(label="x" * 700),
    line(label='"' + "y," * 300 + '"'),
    line(battery='""'),
    line(battery="charging", label="€"),
    'x,"a""b",,"c',
    "",
]


def test_the_line_functions_give_the_same_answers_in_generated_code_and_interpreted(spark, tmp_path) -> None:
    """A frame from Python rows is evaluated by the driver's interpreter; a file scan by generated code."""
    (tmp_path / "lines.txt").write_text("\n".join(ODD_LINES) + "\n", encoding="utf-8")
    scanned = spark.read.text(str(tmp_path / "lines.txt")).select(
        F.lit(FILE).alias("source_file"), F.lit("p12").alias("participant"), "value"
    )
    columns = ["value", "reason", "field_count", *CASAS_FIELDS]
    for frame in (scanned, _lines(spark, *ODD_LINES)):
        judged = transforms.with_reject_reason(transforms.with_typed_fields(frame)).select(*columns)
        rows = sorted(judged.collect(), key=lambda row: ODD_LINES.index(row.value))
        assert [row.value for row in rows] == ODD_LINES
        assert [row.reason for row in rows] == [None, None, None, None, "unparseable_number", None, None, None, "charging", "wrong_field_count", "wrong_field_count"]  # fmt: skip
        assert [row.user_activity_label for row in rows[:3]] == [None, "Café", "Café, süß"]
        assert rows[3].location_type == "hôtel" and rows[3].latitude_distance_from_mean == 0.001
        assert rows[4].user_acceleration_y is None and rows[4].yaw == 0.5
        assert rows[5].user_activity_label == "x" * 700 and rows[5].vertical_accuracy == 3.0
        assert rows[6].user_activity_label == "y," * 300
        assert rows[7].battery_state is None
        assert rows[8].user_activity_label == "€"
        assert [row.field_count for row in rows[9:]] == [4, 1]
        parse_reasons = frame.select(
            F.call_function(PARSE_CASAS_LINE, "value")["reason"], transforms.reject_reason()
        )
        assert all(parsed == fast for parsed, fast in parse_reasons.collect())


def test_the_readings_pass_parses_each_line_once(spark) -> None:
    """The parse is declared non-deterministic so that the kept-lines filter stays above it (not copied below)."""
    readings = transforms.to_readings(_lines(spark, line(), line(battery="charging")))
    plan = readings._jdf.queryExecution().optimizedPlan().toString()
    assert plan.count("ParseCasasLine.parse") == 1, plan
    assert readings.count() == 1
