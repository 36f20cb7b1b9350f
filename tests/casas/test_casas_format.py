"""The CASAS format: header checks, the streaming reader, the row classifier and the exact writer."""

from __future__ import annotations

import fnmatch
import io
from datetime import datetime
from pathlib import Path

import pytest

from watchlake.casas.format import (
    FILE_GLOB,
    HEADER,
    CasasWriter,
    check_header,
    file_name,
    iter_rows,
    parse_stamp,
    participant_from_path,
    reject_reason,
)
from watchlake.errors import FormatError
from watchlake.schemas import CASAS_FIELDS, CASAS_TYPES, REJECT_REASONS

NAMES = ",".join(CASAS_FIELDS)
TYPES = ",".join(CASAS_TYPES)
ROW = "2019-06-03 10:00:00.100000,0.1,-0.2,1e-05,0.0,2.5e-06,-1.0,0.01,0.02,-0.03,house,1.5,-2.5,3.0,90.0,0.0,10.0,4.0,unplugged,"


def _file(tmp_path: Path, text: str, name: str = "sw1.p1.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_iter_rows_reads_crlf_and_lf_alike(tmp_path: Path) -> None:
    body = [ROW, ROW.replace("100000", "200000")]
    crlf = _file(tmp_path, "\r\n".join([NAMES, TYPES, *body]) + "\r\n", "sw1.p1.csv")
    lf = _file(tmp_path, "\n".join([NAMES, TYPES, *body]) + "\n", "sw1.p2.csv")

    from_crlf = [(row.line, row.fields) for row in iter_rows(crlf)]
    from_lf = [(row.line, row.fields) for row in iter_rows(lf)]

    assert from_crlf == from_lf == [(3, body[0].split(",")), (4, body[1].split(","))]


def test_iter_rows_keeps_quoted_comma_label(tmp_path: Path) -> None:
    path = _file(tmp_path, HEADER + ROW + '"Eat, drink"\r\n')

    (row,) = iter_rows(path)

    assert len(row.fields) == 20
    assert row.fields[-1] == "Eat, drink"
    assert reject_reason(row.fields) is None


def test_iter_rows_truncated_last_line_is_wrong_field_count(tmp_path: Path) -> None:
    path = _file(tmp_path, HEADER + ROW + "\r\n" + ROW[:40])

    rows = list(iter_rows(path))

    assert [reject_reason(row.fields) for row in rows] == [None, "wrong_field_count"]


@pytest.mark.parametrize("digits", [1, 2, 3, 4, 5, 6])
def test_parse_stamp_accepts_one_to_six_fraction_digits(digits: int) -> None:
    text = "2019-06-03 10:00:00." + "1234567"[:digits]
    expected = datetime(2019, 6, 3, 10, 0, 0, int(("1234567"[:digits]).ljust(6, "0")))
    assert parse_stamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2019-06-03 10:00:00",
        "2019-06-03 10:00:00.1234567",
        "2019-06-03T10:00:00.1",
        "2019-13-03 10:00:00.1",
    ],
)
def test_parse_stamp_rejects_other_forms(text: str) -> None:
    assert parse_stamp(text) is None


def test_reject_reason_accepts_exponent_floats() -> None:
    fields = ROW.split(",")
    fields[1:4] = ["1e-05", "-2.5e-06", "1.0E+16"]
    assert reject_reason(fields) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f[:-1], "wrong_field_count"),
        (lambda f: [*f, ""], "wrong_field_count"),
        (lambda f: ["not a stamp", *f[1:]], "unparseable_stamp"),
        (lambda f: [f[0], "", *f[2:]], "missing_motion"),
        (lambda f: [f[0], "1.2.3", *f[2:]], "unparseable_number"),
        (lambda f: [*f[:12], "n/a", *f[13:]], "unparseable_number"),
        (lambda f: [*f[:18], "Unknown", f[19]], "invalid_battery_state"),
        (lambda f: [*f[:18], "discharging", f[19]], "invalid_battery_state"),
        (lambda f: [*f[:18], "charging", f[19]], "charging"),
        (lambda f: [*f[:18], "full", f[19]], "full"),
        (lambda f: [*f[:18], "unknown", f[19]], None),
        (lambda f: [*f[:10], *[""] * 8, "", ""], None),
    ],
)
def test_reject_reason_finds_each_reason(change, reason: str | None) -> None:  # type: ignore[no-untyped-def]
    assert reject_reason(change(ROW.split(","))) == reason
    assert reason is None or reason in REJECT_REASONS


def test_reject_reason_first_reason_wins() -> None:
    fields = ROW.split(",")
    fields[0] = "bad"
    fields[1] = ""
    fields[18] = "charging"
    assert reject_reason(fields) == "unparseable_stamp"


def test_check_header_empty_file_is_clear_error(tmp_path: Path) -> None:
    path = _file(tmp_path, "")
    with pytest.raises(FormatError, match=r"sw1\.p1\.csv: file is empty"):
        check_header(path)


def test_check_header_names_row_of_mismatch(tmp_path: Path) -> None:
    short_types = ",".join(CASAS_TYPES[:-1])
    path = _file(tmp_path, f"{NAMES}\r\n{short_types}\r\n{ROW}\r\n")
    with pytest.raises(
        FormatError, match=r"sw1\.p1\.csv: row 2 \(field types\) has 19 fields but row 1 has 20"
    ):
        check_header(path)


def test_check_header_rejects_unknown_type_code(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{NAMES}\r\n{TYPES.replace('dt', 'd', 1)}\r\n")
    with pytest.raises(FormatError, match=r"row 2 \(field types\) has unknown type codes \['d'\]"):
        check_header(path)


def test_check_header_rejects_unknown_names(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{NAMES.replace('yaw', 'heading')}\r\n{TYPES}\r\n")
    with pytest.raises(FormatError, match=r"row 1 \(field names\).*unknown names \['heading'\]"):
        check_header(path)


def test_check_header_missing_types_row(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{NAMES}\r\n")
    with pytest.raises(FormatError, match="row 2"):
        list(iter_rows(path))


def test_check_header_reads_binary_streams() -> None:
    check_header(io.BytesIO(HEADER.encode()), "group1.zip:sw1.p1.csv")
    with pytest.raises(FormatError, match=r"group1\.zip:sw1\.p1\.csv: row 1"):
        check_header(io.BytesIO(b"a,b\r\ndt,f\r\n"), "group1.zip:sw1.p1.csv")


def test_casas_writer_writes_exact_format() -> None:
    out = io.StringIO(newline="")
    writer = CasasWriter(out)
    values = [datetime(2019, 6, 3, 10, 0, 0, 100000), 1e-05, 0.1, -1.0, *[0.5] * 6, None, *[None] * 7]
    writer.write([*values, "unplugged", "Eat, drink"])

    expected_row = (
        '2019-06-03 10:00:00.100000,1e-05,0.1,-1.0,0.5,0.5,0.5,0.5,0.5,0.5,,,,,,,,,unplugged,"Eat, drink"'
    )
    assert out.getvalue() == HEADER + expected_row + "\r\n"


def test_casas_writer_refuses_wrong_length() -> None:
    with pytest.raises(FormatError, match="20 values"):
        CasasWriter(io.StringIO()).write([None] * 19)


def test_participant_from_path() -> None:
    assert participant_from_path("/lake/staging/group1/sw1.p12.csv") == "p12"
    assert participant_from_path("s3://bucket/staging/group2/sw1.p3.csv") == "p3"
    with pytest.raises(FormatError, match=r"expected a name like sw1\.p12\.csv"):
        participant_from_path("group1/sw2.p12.csv")


@pytest.mark.parametrize("name", ["sw1.pa.sw1.p3.csv", "xsw1.p3.csv", "sw1.p3.csv.bak", "sw1.p.csv"])
def test_participant_from_path_refuses_other_names(name: str) -> None:
    with pytest.raises(FormatError, match="not a CASAS participant file"):
        participant_from_path(f"s3://bucket/staging/group1/{name}")


@pytest.mark.parametrize("participant", ["p1", "p49", "p90000"])
def test_file_name_inverts_participant_from_path_and_fits_the_glob(participant: str) -> None:
    name = file_name(participant)
    assert name == f"sw1.{participant}.csv"
    assert participant_from_path(f"/lake/staging/group1/{name}") == participant
    assert fnmatch.fnmatchcase(name, FILE_GLOB)
