"""The sample generator: exact format, the quirks of the real files, and planted counts that re-reading confirms."""

from __future__ import annotations

import collections
import itertools
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from watchlake.casas.activities import RAW_LABELS
from watchlake.casas.format import HEADER, iter_rows, parse_stamp, reject_reason
from watchlake.casas.sample import generate_sample, load_planted, read_members
from watchlake.schemas import CASAS_FIELDS, REJECT_REASONS

LOCATION = slice(10, 18)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, participants=3, hours=0.05, groups=2, seed=7)
    return out


def _rows(data: bytes) -> list[list[str]]:
    import io

    return [row.fields for row in iter_rows(io.BytesIO(data), "member")]


def test_generate_sample_layout(sample: Path) -> None:
    planted = load_planted(sample)
    with zipfile.ZipFile(sample / "group1.zip") as one, zipfile.ZipFile(sample / "group2.zip") as two:
        names = sorted(one.namelist()), sorted(two.namelist())
    assert names == (["sw1.p1.csv", "sw1.p2.csv"], ["group2/smartwatch/sw1.p3.csv"])
    assert sorted(planted["files"]) == ["group1/sw1.p1.csv", "group1/sw1.p2.csv", "group2/sw1.p3.csv"]


def test_generate_sample_header_and_crlf(sample: Path) -> None:
    for key, data in read_members(sample).items():
        text = data.decode("utf-8")
        assert text.startswith(HEADER)
        lines = text.split("\r\n")
        assert "\n" not in "".join(lines), key
        # Only participant 1's file ends in a truncated line without a line end.
        assert (lines[-1] != "") == (key == "group1/sw1.p1.csv")


def test_generate_sample_planted_counts_match_files(sample: Path) -> None:
    planted = load_planted(sample)
    totals: collections.Counter[str] = collections.Counter()
    for key, data in read_members(sample).items():
        rows = _rows(data)
        reasons = collections.Counter(reject_reason(fields) for fields in rows)
        entry = planted["files"][key]
        assert entry["data_rows"] == len(rows)
        assert entry["kept_rows"] == reasons[None]
        assert entry["rejected"] == {reason: reasons[reason] for reason in REJECT_REASONS}
        assert all(count > 0 for count in entry["rejected"].values()), key
        totals.update({reason: reasons[reason] for reason in REJECT_REASONS})
    assert planted["totals"]["rejected"] == dict(totals)


def test_generate_sample_stamps_on_grid_with_gaps(sample: Path) -> None:
    for key, data in read_members(sample).items():
        texts = [
            fields[0]
            for fields in _rows(data)
            if reject_reason(fields) not in ("wrong_field_count", "unparseable_stamp")
        ]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d00000", text) for text in texts), key
        stamps = [parse_stamp(text) for text in texts]
        steps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps) if a and b]
        assert any(10 < step < 600 for step in steps), f"{key}: no >10 s gap"
        assert any(step > 6 * 3600 for step in steps), f"{key}: no night gap"
        assert any(step < -1800 for step in steps), f"{key}: no backward jump"
        assert steps.count(0.0) >= 2, f"{key}: no exact duplicate lines"


def test_generate_sample_repeats_values_and_late_location(sample: Path) -> None:
    for key, data in read_members(sample).items():
        rows = [fields for fields in _rows(data) if reject_reason(fields) is None]
        motion = [tuple(fields[1:10]) for fields in rows]
        assert sum(a == b for a, b in itertools.pairwise(motion)) > 5, key
        located = [any(fields[LOCATION]) for fields in rows]
        first = located.index(True)
        assert first > 0 and all(located[first:]), key
        assert not any(located[:first])
        assert len({tuple(fields[LOCATION]) for fields in rows[first:]}) < len(rows) / 100


def test_generate_sample_floats_are_repr(sample: Path) -> None:
    exponent = 0
    for data in read_members(sample).values():
        for fields in _rows(data):
            if reject_reason(fields) is None:
                for text in fields[1:10]:
                    assert repr(float(text)) == text
                    exponent += "e-" in text
    assert exponent >= 6


def test_generate_sample_labels_isolated_and_mappable(sample: Path) -> None:
    planted = load_planted(sample)
    quoted = 0
    for key, data in read_members(sample).items():
        text = data.decode("utf-8")
        quoted += text.count('"')
        rows = _rows(data)
        labelled = [
            (index + 3, fields[-1]) for index, fields in enumerate(rows) if len(fields) == 20 and fields[-1]
        ]
        truth = planted["files"][key]["labels"]
        assert labelled == [(line, raw) for line, _stamp, raw, _cls in truth]
        assert all(raw in RAW_LABELS[cls] for _line, _stamp, raw, cls in truth)
        lines = {line for line, _ in labelled}
        assert not any(line + 1 in lines for line in lines), f"{key}: labels on adjacent rows"
    assert quoted >= 2  # a label with a comma, quoted


def test_generate_sample_battery_states(sample: Path) -> None:
    for key, data in read_members(sample).items():
        battery = [fields[18] for fields in _rows(data) if len(fields) == 20]
        counts = collections.Counter(battery)
        assert counts["unplugged"] > 5 * counts["charging"] > 0, key
        assert counts["charging"] > counts["full"] > 0, key
        assert counts["unknown"] > 0, key
        # On the charger, the battery reaches full and stays there until the watch is taken off before the night.
        runs = [state for state, _ in itertools.groupby(battery) if state in ("charging", "full")]
        full = [i for i, state in enumerate(runs) if state == "full"]
        assert full and all(i > 0 and runs[i - 1] == "charging" for i in full), key


def test_generate_sample_keeps_unknown_battery_rows(sample: Path) -> None:
    for key, data in read_members(sample).items():
        unknown = [fields for fields in _rows(data) if len(fields) == 20 and fields[18] == "unknown"]
        assert unknown and {reject_reason(fields) for fields in unknown} == {None}, key


def test_generate_sample_is_deterministic(tmp_path: Path) -> None:
    first = generate_sample(tmp_path / "a", participants=1, hours=0.02, groups=1, seed=3)
    second = generate_sample(tmp_path / "b", participants=1, hours=0.02, groups=1, seed=3)
    other = generate_sample(tmp_path / "c", participants=1, hours=0.02, groups=1, seed=4)
    read = [zipfile.ZipFile(result.zips[0]).read("sw1.p1.csv") for result in (first, second, other)]
    assert read[0] == read[1] != read[2]


def _motion_ok(fields: list[str]) -> bool:
    """Cheaper than reject_reason for bulk use: the nine motion fields parse as floats."""
    try:
        [float(value) for value in fields[1:10]]
    except ValueError:
        return False
    return True


def _window_features(rows: list[list[str]], segments: list[Any]) -> tuple[list[list[float]], list[str]]:
    """Mean/sd of acceleration magnitude and rotation magnitude, mean pitch and roll per 60 s of each segment."""
    import numpy as np

    features, classes = [], []
    for first, last, _a, _b, cls in segments:
        if cls == "charging":
            continue
        block = [r for r in rows[first - 3 : last - 2] if len(r) == 20 and _motion_ok(r)]
        for start in range(0, len(block) - 599, 600):
            values = np.array([[float(v) for v in r[1:10]] for r in block[start : start + 600]])
            acc = np.linalg.norm(values[:, 6:9], axis=1)
            rot = np.linalg.norm(values[:, 3:6], axis=1)
            features.append(
                [acc.mean(), acc.std(), rot.mean(), rot.std(), values[:, 1].mean(), values[:, 2].mean()]
            )
            classes.append(cls)
    return features, classes


@pytest.mark.slow
def test_generate_sample_classes_learnable_across_participants(tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    generate_sample(tmp_path, participants=6, hours=1.5, groups=1, seed=11)
    planted = load_planted(tmp_path)
    train: tuple[list[Any], list[str]] = ([], [])
    test: tuple[list[Any], list[str]] = ([], [])
    for key, data in sorted(read_members(tmp_path).items()):
        features, classes = _window_features(_rows(data), planted["files"][key]["segments"])
        part = test if key.endswith(("p5.csv", "p6.csv")) else train
        part[0].extend(features)
        part[1].extend(classes)
    model = RandomForestClassifier(n_estimators=60, random_state=0).fit(*train)
    accuracy = model.score(*test)
    majority = collections.Counter(test[1]).most_common(1)[0][1] / len(test[1])
    assert accuracy > max(0.6, majority + 0.15), (accuracy, majority)
    assert accuracy < 1.0


def test_planted_ground_truth_stamps(sample: Path) -> None:
    planted = load_planted(sample)
    for key, data in read_members(sample).items():
        rows = _rows(data)
        for line, stamp, _raw, _cls in planted["files"][key]["labels"]:
            assert rows[line - 3][0] == stamp
            assert isinstance(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f"), datetime)
    assert len(CASAS_FIELDS) == 20


def test_raw_labels_map_to_their_class_in_labels_yaml() -> None:
    from watchlake.labels.mapping import load_mapping

    mapping = load_mapping()
    wrong = [
        (cls, raw, mapping.class_of(raw))
        for cls, raws in RAW_LABELS.items()
        for raw in raws
        if mapping.class_of(raw) != cls
    ]
    assert wrong == []


def test_iter_chunks_same_bytes_for_any_chunk_size() -> None:
    from watchlake.casas.plan import plan_file
    from watchlake.casas.render import iter_chunks

    plan = plan_file(seed=1, number=1, hours=0.03, truncate=True)
    whole = b"".join(iter_chunks(plan, chunk_rows=1_000_000))
    assert b"".join(iter_chunks(plan, chunk_rows=97)) == whole
    assert len(whole.split(b"\r\n")) == 2 + len(plan.ticks) + len(plan.duplicates)
