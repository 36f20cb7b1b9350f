"""features.min_readings_share on real Spark: a window holding a lone labelled row is left out of training."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.casas.format import HEADER
from watchlake.lake import Lake

pytestmark = pytest.mark.slow
ROW = "0.5,-0.25,1e-05,0.1,0.2,0.3,-0.0125,0.98,0.0,house,0.001,-0.002,3.5,90.0,1.25,5.0,3.0,unplugged"


def _stage(settings) -> None:
    """A whole minute at 10 Hz labelled Relax at its end, then one lone labelled reading in the next minute."""
    start = datetime(2020, 3, 2, 9, 0)
    lines = [f"{start + timedelta(milliseconds=100 * i):%Y-%m-%d %H:%M:%S.%f},{ROW}," for i in range(599)]
    lines.append(f"{start + timedelta(milliseconds=59_900):%Y-%m-%d %H:%M:%S.%f},{ROW},Relax")
    lines.append(f"{start + timedelta(seconds=90):%Y-%m-%d %H:%M:%S.%f},{ROW},Work")
    path = Path(Lake.from_settings(settings).staging) / "g" / "sw1.p1.csv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "".join(line + "\r\n" for line in lines), encoding="utf-8", newline="")


@pytest.mark.parametrize(("share", "expected"), [(0.5, ([600], 1, 300)), (0.0, ([1, 600], 0, 0))])
def test_features_leaves_out_windows_below_the_minimum_share_of_readings(
    spark, tmp_path: Path, share: float, expected
) -> None:
    from watchlake.clean.job import run as clean
    from watchlake.features.dataset import read_windows
    from watchlake.features.job import run as features

    settings = make_settings(
        tmp_path, features={"min_readings_share": share}, catalog={"kind": "none", "database": "watchlake"}
    )
    _stage(settings)
    clean(settings, spark)
    result = features(settings, spark)
    rows = sorted(int(row.rows) for row in read_windows(spark, Lake.from_settings(settings)).collect())
    assert (rows, result.partial, result.min_readings) == expected
    assert result.windows == len(rows)
