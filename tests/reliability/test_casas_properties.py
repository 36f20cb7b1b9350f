"""Property tests of the CASAS cleaning rules (``casas.format.reject_reason``): any split line is kept or rejected
with exactly one reason of ``schemas.REJECT_REASONS``, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchlake.casas.format import reject_reason
from watchlake.schemas import CASAS_FIELDS, REJECT_REASONS

pytestmark = pytest.mark.reliability

VALID = [
    "2019-01-01 08:00:00.100000",
    *["0.01"] * 9,
    "house",
    *["0.5"] * 7,
    "unplugged",
    "Relax",
]
# Field values near the rules' edges: empty, numbers CASAS writes, non-numbers, battery states, broken stamps.
EDGE_VALUES = st.sampled_from(
    [
        "",
        "nan",
        "inf",
        "1e-05",
        "-0.0",
        "abc",
        "1,5",
        '"x"',
        "charging",
        "full",
        "unknown",
        "unplugged",
        "2019-13-01 08:00:00.1",
        "2019-01-01 08:00:00",
        "2019-01-01 08:00:00.1234567",
        " 0.1",
    ]
)
FIELD = st.one_of(EDGE_VALUES, st.text(max_size=12))


@st.composite
def rows(draw: st.DrawFn) -> list[str]:
    """A valid row with some fields replaced, or a row of any field count."""
    if draw(st.booleans()):
        return draw(st.lists(FIELD, max_size=len(CASAS_FIELDS) + 2))
    row = list(VALID)
    for index in draw(st.lists(st.integers(0, len(row) - 1), max_size=4)):
        row[index] = draw(FIELD)
    return row


@settings(max_examples=300, deadline=None)
@given(rows())
def test_reject_reason_gives_one_known_reason_or_keeps(row: list[str]) -> None:
    reason = reject_reason(row)
    assert reason is None or reason in REJECT_REASONS
    if len(row) != len(CASAS_FIELDS):
        assert reason == "wrong_field_count"


def test_reject_reason_keeps_the_valid_row() -> None:
    assert reject_reason(VALID) is None
