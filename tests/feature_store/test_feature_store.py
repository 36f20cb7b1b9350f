"""The Feast feature store on the real test PostgreSQL (online) and a Parquet file in the test's lake (offline):
push, relabel, undo, point-in-time reads and concurrent pushers."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import make_settings
from labels_factory import T0, window_label
from watchlake.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def store_settings(tmp_path: Path, postgres_service: Settings, pg_schema: str) -> Settings:
    warehouse = {**postgres_service.warehouse.model_dump(), "schema_name": pg_schema}
    return make_settings(tmp_path, warehouse=warehouse, feature_store={"online_schema": pg_schema})


def _online_labels(settings: Settings, devices_minutes: list[tuple[str, int]]) -> list[str | None]:
    from watchlake.feature_store.repo import FEATURE_VIEW, open_store
    from watchlake.feature_store.rows import epoch_seconds

    rows = [
        {"device_id": device, "window_start_s": epoch_seconds(T0 + timedelta(minutes=minute))}
        for device, minute in devices_minutes
    ]
    online = open_store(settings).get_online_features(features=[f"{FEATURE_VIEW}:label"], entity_rows=rows)
    return list(online.to_dict()["label"])


def test_push_labels_writes_online_and_offline(store_settings):
    from watchlake.feature_store.push import push_labels
    from watchlake.feature_store.retrieval import label_rows, labelled_windows

    labels = [
        window_label("w1", 0, "Walk", T0 + timedelta(hours=1)),
        window_label("w1", 1, "Relax", T0 + timedelta(hours=1)),
    ]
    assert push_labels(store_settings, labels) == 2
    assert _online_labels(store_settings, [("w1", 0), ("w1", 1), ("w1", 2)]) == ["Walk", "Relax", None]
    rows = label_rows(store_settings)
    assert sorted(rows["label_id"]) == sorted(label.label_id for label in labels)
    windows = labelled_windows(store_settings, None, T0 + timedelta(hours=2))
    assert list(windows["activity"]) == ["Walk", "Relax"]
    assert list(windows["window_start"]) == [T0, T0 + timedelta(minutes=1)]
    assert list(windows["participant"]) == ["w1", "w1"]


def test_relabel_wins_by_time_and_old_row_stays_offline(store_settings):
    from watchlake.feature_store.push import push_labels
    from watchlake.feature_store.retrieval import label_rows, labelled_windows

    first = window_label("w1", 0, "Walk", T0 + timedelta(hours=1), annotator="a")
    second = window_label("w1", 0, "Exercise", T0 + timedelta(hours=2), annotator="b")
    push_labels(store_settings, [first])
    push_labels(store_settings, [second])
    assert _online_labels(store_settings, [("w1", 0)]) == ["Exercise"]
    assert list(label_rows(store_settings)["label"]) == ["Walk", "Exercise"]  # the old row stays
    now = labelled_windows(store_settings, None, T0 + timedelta(hours=3))
    assert (list(now["activity"]), list(now["annotator"])) == (["Exercise"], ["b"])
    # point in time: between the two labels the older one is the answer
    then = labelled_windows(store_settings, None, T0 + timedelta(hours=1, minutes=30))
    assert (list(then["activity"]), list(then["annotator"])) == (["Walk"], ["a"])
    # before any label: nothing
    assert labelled_windows(store_settings, None, T0 + timedelta(minutes=30)).empty


def test_undo_retracts_the_window_and_is_a_row_of_its_own(store_settings):
    from watchlake.feature_store.push import push_labels
    from watchlake.feature_store.retrieval import label_rows, labelled_windows, latest_label_time

    push_labels(
        store_settings,
        [
            window_label("w1", 0, "Walk", T0 + timedelta(hours=1)),
            window_label("w2", 0, "Relax", T0 + timedelta(hours=1)),
        ],
    )
    push_labels(store_settings, [window_label("w1", 0, None, T0 + timedelta(hours=2))])
    assert _online_labels(store_settings, [("w1", 0), ("w2", 0)]) == [None, "Relax"]
    windows = labelled_windows(store_settings, None, T0 + timedelta(hours=3))
    assert list(windows["participant"]) == ["w2"]
    assert len(label_rows(store_settings)) == 3
    assert latest_label_time(store_settings) == T0 + timedelta(hours=2)
    # before the undo, both windows were labelled
    assert sorted(labelled_windows(store_settings, None, T0 + timedelta(hours=1))["participant"]) == [
        "w1",
        "w2",
    ]


def test_several_labels_of_one_window_in_one_push_end_with_the_newest_online(store_settings):
    from watchlake.feature_store.push import push_labels

    newer = window_label("w1", 0, "Exercise", T0 + timedelta(hours=2))
    older = window_label("w1", 0, "Walk", T0 + timedelta(hours=1))
    assert push_labels(store_settings, [newer, older]) == 2
    assert _online_labels(store_settings, [("w1", 0)]) == ["Exercise"]


def test_push_labels_refuses_a_repeated_label_id(store_settings):
    from watchlake.feature_store.push import push_labels
    from watchlake.feature_store.retrieval import label_rows

    label = window_label("w1", 0, "Walk", T0)
    with pytest.raises(ValueError, match="replayed"):
        push_labels(store_settings, [label, label])
    assert label_rows(store_settings).empty


def test_concurrent_pushers_lose_nothing(store_settings):
    from watchlake.feature_store.push import push_labels
    from watchlake.feature_store.repo import open_store
    from watchlake.feature_store.retrieval import label_rows
    from watchlake.feature_store.rows import epoch_seconds

    open_store(store_settings)
    errors: list[BaseException] = []

    def pusher(device: str) -> None:
        try:
            for minute in range(6):
                push_labels(store_settings, [window_label(device, minute, "Walk", T0 + timedelta(hours=1))])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=pusher, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    rows = label_rows(store_settings)
    expected = sorted((f"w{n}", epoch_seconds(T0 + timedelta(minutes=m))) for n in range(3) for m in range(6))
    assert sorted(zip(rows["device_id"], rows["window_start_s"], strict=True)) == expected


def test_concurrent_pusher_processes_lose_nothing(store_settings):
    import multiprocessing

    from labels_factory import push_minutes
    from watchlake.feature_store.repo import open_store
    from watchlake.feature_store.retrieval import label_rows

    open_store(store_settings)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=push_minutes, args=(store_settings, f"p{n}", 4)) for n in range(2)]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=180)
        assert [process.exitcode for process in processes] == [0, 0]
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    rows = label_rows(store_settings)
    assert sorted(rows["device_id"]) == ["p0"] * 4 + ["p1"] * 4
