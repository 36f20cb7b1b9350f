"""The pure parts of the annotation service: submission checks, session cookies and CSRF tokens, what a window
shows, readings relative to a window."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from watchlake.annotate.checks import label_request, undo_request
from watchlake.annotate.readings import MOTION_AXES, to_window_readings
from watchlake.annotate.security import Signer
from watchlake.annotate.views import context_of
from watchlake.errors import AnnotationRefused

NOW = datetime(2026, 12, 3, 8, 0, 0)
GOOD = {"label_id": "a" * 32, "lease_id": "b" * 36, "label": "Walk", "note": " ok "}


def test_label_request_accepts_a_good_submission():
    request = label_request(GOOD, 100)
    assert (request.label_id, request.lease_id, request.label, request.note) == (
        "a" * 32,
        "b" * 36,
        "Walk",
        "ok",
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ([1, 2], 422, "the body must be a JSON object"),
        ({**GOOD, "label_id": None}, 422, "missing field: label_id"),
        (
            {**GOOD, "label_id": "short"},
            422,
            "label_id must be 8-64 letters, digits, '-' or '_' (a UUID will do)",
        ),
        ({**GOOD, "lease_id": 12345678}, 422, "lease_id must be a string, not int"),
        ({**GOOD, "label": ""}, 422, "missing field: label"),
        ({**GOOD, "note": "x" * 101}, 422, "note is longer than 100 characters"),
        ({**GOOD, "note": "a\x00b"}, 422, "note holds control characters"),
    ],
)
def test_label_request_refuses_with_the_first_reason(body, status, message):
    with pytest.raises(AnnotationRefused) as refused:
        label_request(body, 100)
    assert (refused.value.status, str(refused.value)) == (status, message)


def test_undo_request_needs_its_own_label_id():
    assert undo_request({"label_id": "u" * 10}, 10).label_id == "u" * 10
    with pytest.raises(AnnotationRefused, match="missing field: label_id"):
        undo_request({}, 10)


def test_signer_session_round_trip_and_expiry():
    signer = Signer("secret", session_hours=1)
    session, cookie = signer.new_session("alice", NOW)
    assert signer.session_of(cookie, NOW + timedelta(minutes=59)) == session
    assert signer.session_of(cookie, NOW + timedelta(minutes=61)) is None


def test_signer_refuses_forged_cookies_and_tokens():
    signer = Signer("secret", session_hours=1)
    session, cookie = signer.new_session("alice", NOW)
    assert signer.session_of(cookie.replace("alice", "bob", 1), NOW) is None
    assert Signer("other", 1).session_of(cookie, NOW) is None
    assert signer.session_of("garbage", NOW) is None
    assert signer.csrf_ok(session.session_id, signer.csrf_token(session.session_id))
    assert not signer.csrf_ok(session.session_id, signer.csrf_token("another-session"))
    assert not signer.csrf_ok(session.session_id, None)


def test_an_empty_secret_is_random_per_signer():
    _, cookie = Signer("", 1).new_session("alice", NOW)
    assert Signer("", 1).session_of(cookie, NOW) is None


def test_context_of_features():
    context = context_of(
        {
            "location_known_fraction": 0.5,
            "location_house_fraction": 0.1,
            "location_road_fraction": 0.4,
            "speed_mean": -1.0,
            "speed_max": -1.0,
            "battery_full_fraction": 1.0,
            "hour_sin": 1.0,
            "hour_cos": 0.0,
            "rows": 598.0,
        }
    )
    assert context == {
        "location": "road",
        "location_known": 0.5,
        "speed_mean": None,
        "speed_max": None,
        "battery_full": 1.0,
        "hour": "06:00",
        "readings": 598,
    }
    assert (
        context_of({"location_known_fraction": 0.0, "location_house_fraction": 0.0})["location"] == "unknown"
    )


def test_to_window_readings_orders_messages_and_spreads_readings():
    def message(second: int, truth: str) -> dict:
        at = NOW + timedelta(seconds=second)
        return {
            "event_time": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "seq": second * 10,
            "interval_ms": 100,
            "true_activity": truth,
            **{axis: [float(second)] * 10 for axis in MOTION_AXES},
        }

    found = to_window_readings([message(2, "Eat"), message(0, "Walk"), message(1, "Walk")], NOW)
    assert found.seconds[:2] == [0.0, 0.1] and found.seconds[-1] == 2.9 and len(found.seconds) == 30
    assert found.axes["rotation_rate_y"][9:11] == [0.0, 1.0]
    assert found.true_activity == "Walk"


def test_location_type_mode_is_the_first_largest_share_as_the_jvm_picks_it():
    from watchlake.annotate.views import location_type_mode

    shares = {
        "location_known_fraction": 1.0,
        "location_house_fraction": 0.4,
        "location_road_fraction": 0.4,
        "location_work_fraction": 0.2,
    }
    assert location_type_mode(shares) == "house"
    assert location_type_mode({"location_house_fraction": 0.0, "location_road_fraction": 0.0}) == "unknown"
