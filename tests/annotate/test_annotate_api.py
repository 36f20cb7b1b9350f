"""The annotation API and page on the real PostgreSQL: every refusal answers with its status and a clear text and
stores nothing; accepted labels and undos are new rows, handed to the sink as WindowLabel."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import timedelta

import httpx
import pytest
from annotate_fixtures import (
    CLASSES,
    PASSWORD,
    T0,
    Clock,
    RecordingSink,
    add_user,
    fill_queue,
    probabilities,
    query,
    queue_row,
)
from fastapi.testclient import TestClient

from conftest import make_settings
from fixtures_services import warehouse_overrides
from watchlake.annotate.app import create_app
from watchlake.annotate.server import serving

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def settings(tmp_path, postgres_service, pg_schema):
    return make_settings(
        tmp_path,
        **warehouse_overrides(postgres_service, pg_schema),
        annotate={"lease_seconds": 60, "max_body_bytes": 2048},
    )


@pytest.fixture
def world(settings):
    """Three queued windows (w-b least confident), two annotators, a clock, a recording sink, the app."""
    fill_queue(
        settings,
        [
            queue_row("w-a", T0, probabilities(0.70)),
            queue_row("w-b", T0, probabilities(0.30)),
            queue_row("w-c", T0 + timedelta(minutes=1), probabilities(0.50)),
        ],
    )
    tokens = {name: add_user(settings, name) for name in ("alice", "bob")}
    clock, sink = Clock(), RecordingSink()
    app = create_app(settings, sink=sink, clock=clock, readings=lambda *_: None)
    return {
        "settings": settings,
        "tokens": tokens,
        "clock": clock,
        "sink": sink,
        "app": app,
        "client": TestClient(app),
    }


def _auth(world, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][name]}"}


def _lease(world, name: str = "alice") -> dict:
    response = world["client"].post("/api/leases", headers=_auth(world, name))
    assert response.status_code == 201, response.text
    return response.json()


def _label(world, lease: dict, label: str = "Walk", name: str = "alice", label_id: str | None = None):
    body = {
        "label_id": label_id or uuid.uuid4().hex,
        "lease_id": lease["lease_id"],
        "label": label,
        "note": "n",
    }
    return world["client"].post("/api/labels", json=body, headers=_auth(world, name))


def _stored_labels(world) -> list[tuple]:
    return query(
        world["settings"],
        "SELECT device_id, label, annotator, retracts FROM {schema}.annotation_labels "
        "ORDER BY labelled_at, label_id",
    )


def test_api_without_token_is_refused(world):
    client = world["client"]
    for method, path in (
        ("get", "/api/queue"),
        ("post", "/api/leases"),
        ("post", "/api/labels"),
        ("post", "/api/undo"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
        assert "no bearer token" in response.json()["error"]
        assert response.headers["www-authenticate"] == "Bearer"
    assert query(world["settings"], "SELECT count(*) FROM {schema}.annotation_leases") == [(0,)]


def test_api_with_wrong_token_is_refused(world):
    response = world["client"].post("/api/leases", headers={"Authorization": "Bearer wl_not-a-token"})
    assert response.status_code == 401
    assert response.json()["error"] == "wrong token: it is unknown or revoked"
    assert query(world["settings"], "SELECT count(*) FROM {schema}.annotation_leases") == [(0,)]


def test_queue_lists_most_uncertain_first_with_counts(world):
    answer = world["client"].get("/api/queue", headers=_auth(world, "alice")).json()
    assert [w["device_id"] for w in answer["windows"]] == ["w-b", "w-c", "w-a"]
    assert (answer["left"], answer["today"], answer["mine_today"]) == (3, 0, 0)
    assert answer["windows"][0]["top"][0] == {"class": "Walk", "probability": 0.3}
    assert answer["windows"][0]["context"]["location"] == "house"


def test_lease_then_label_is_stored_and_pushed(world):
    lease = _lease(world)
    assert lease["window"]["device_id"] == "w-b"
    response = _label(world, lease, "Eat")
    assert response.status_code == 201, response.text
    assert response.json()["pushed"] is True
    assert _stored_labels(world) == [("w-b", "Eat", "alice", None)]
    (pushed,) = world["sink"].labels
    assert (pushed.device_id, pushed.window_start, pushed.label, pushed.annotator, pushed.model_version) == (
        "w-b",
        T0,
        "Eat",
        "alice",
        "3",
    )
    assert pushed.features["speed_mean"] == 1.2
    assert pushed.features["location_type_mode"] == "house"
    assert query(
        world["settings"], "SELECT count(*) FROM {schema}.annotation_labels WHERE pushed_at IS NULL"
    ) == [(0,)]
    assert _lease(world)["window"]["device_id"] == "w-c"  # the next one, not the labelled one


def test_label_on_expired_lease_is_refused(world):
    lease = _lease(world)
    world["clock"].advance(61)
    response = _label(world, lease)
    assert response.status_code == 410
    assert "expired" in response.json()["error"] and "take a new lease" in response.json()["error"]
    assert _stored_labels(world) == []
    assert _lease(world, "bob")["window"]["device_id"] == "w-b"  # the window went back to the queue


def test_label_on_unknown_lease_is_refused(world):
    response = _label(world, {"lease_id": uuid.uuid4().hex})
    assert response.status_code == 404
    assert "unknown lease" in response.json()["error"]


def test_label_on_another_annotators_lease_is_refused(world):
    lease = _lease(world, "alice")
    response = _label(world, lease, name="bob")
    assert response.status_code == 403
    assert _stored_labels(world) == []


def test_unknown_class_is_refused(world):
    lease = _lease(world)
    response = _label(world, lease, "Juggle")
    assert response.status_code == 422
    assert (
        response.json()["error"] == f"unknown class 'Juggle'; the model's classes are: {', '.join(CLASSES)}"
    )
    assert _stored_labels(world) == []
    assert _label(world, lease, "Cook").status_code == 201  # the lease is still open


def test_replayed_submission_is_refused(world):
    lease = _lease(world)
    label_id = uuid.uuid4().hex
    assert _label(world, lease, "Walk", label_id=label_id).status_code == 201
    again = _label(world, lease, "Relax", label_id=label_id)
    assert again.status_code == 409
    assert again.json()["error"].startswith(f"replayed submission: label_id {label_id} was recorded at")
    assert _stored_labels(world) == [("w-b", "Walk", "alice", None)]
    assert len(world["sink"].labels) == 1


def test_malformed_and_oversized_bodies_are_refused(world):
    client, headers = world["client"], _auth(world, "alice")
    assert client.post("/api/labels", content=b"{not json", headers=headers).status_code == 400
    missing = client.post("/api/labels", json={"lease_id": uuid.uuid4().hex}, headers=headers)
    assert missing.status_code == 422 and missing.json()["error"] == "missing field: label_id"
    big = client.post("/api/labels", content=b'{"note": "' + b"x" * 4000 + b'"}', headers=headers)
    assert big.status_code == 413
    assert "larger than 2048 bytes" in big.text
    chunked = client.post("/api/labels", content=iter([b'{"note": "', b"x" * 4000, b'"}']), headers=headers)
    assert chunked.status_code == 413  # no Content-Length: counted while it streams in
    assert _stored_labels(world) == []


def test_undo_adds_a_retracting_row_and_reopens_the_window(world):
    lease = _lease(world)
    first = _label(world, lease, "Walk").json()
    undo = world["client"].post(
        "/api/undo", json={"label_id": uuid.uuid4().hex}, headers=_auth(world, "alice")
    )
    assert undo.status_code == 201, undo.text
    assert (undo.json()["retracted_label"], undo.json()["device_id"]) == ("Walk", "w-b")
    assert _stored_labels(world) == [
        ("w-b", "Walk", "alice", None),
        ("w-b", None, "alice", first["label_id"]),
    ]
    assert [label.label for label in world["sink"].labels] == ["Walk", None]
    assert world["client"].get("/api/queue", headers=_auth(world, "alice")).json()["left"] == 3
    nothing = world["client"].post(
        "/api/undo", json={"label_id": uuid.uuid4().hex}, headers=_auth(world, "alice")
    )
    assert nothing.status_code == 409 and "nothing to undo" in nothing.json()["error"]
    relabel = _label(world, _lease(world, "bob"), "Relax", name="bob")  # a relabel is a third row
    assert relabel.status_code == 201
    assert len(_stored_labels(world)) == 3


def test_skip_returns_the_window_to_the_others(world):
    lease = _lease(world, "alice")
    skipped = world["client"].post(f"/api/leases/{lease['lease_id']}/skip", headers=_auth(world, "alice"))
    assert skipped.status_code == 200
    assert _lease(world, "alice")["window"]["device_id"] == "w-c"  # not offered to alice again
    assert _lease(world, "bob")["window"]["device_id"] == "w-b"


def test_two_annotators_racing_for_one_window(settings):
    """Eight clients lease at once from a queue of one window, over a real server: exactly one gets it."""
    fill_queue(settings, [queue_row("w-only", T0, probabilities(0.4))])
    names = [f"racer{i}" for i in range(8)]
    tokens = {name: add_user(settings, name) for name in names}
    app = create_app(settings, sink=RecordingSink(), readings=lambda *_: None)
    barrier, answers = threading.Barrier(len(names)), {}

    def race(url: str, name: str) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[name]}"}) as client:
            barrier.wait()
            answers[name] = client.post("/api/leases")

    with serving(app) as url:
        threads = [threading.Thread(target=race, args=(url, name)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [201] + [204] * 7
    assert query(settings, "SELECT count(*) FROM {schema}.annotation_leases") == [(1,)]


def _login(client: TestClient, name: str = "alice", password: str = PASSWORD) -> str:
    """Log in through the form; returns the page's CSRF token."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/login", data={"name": name, "password": password, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    home = client.get("/")
    return re.search(r'"X-CSRF-Token": "([^"]+)"', home.text).group(1)


def _form(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(lease_id|label_id)" value="([^"]+)"', page))


def test_page_without_session_is_refused(world):
    client = world["client"]
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    answer = client.post("/ui/label", data={"label": "Walk"})
    assert answer.status_code == 401 and answer.text == "no session: log in at /login"
    client.cookies.set("watchlake_session", "alice|x|9999999999|mac")
    forged = client.post("/ui/label", data={"label": "Walk"})
    assert forged.status_code == 401


def test_page_post_without_csrf_token_is_refused(world):
    client = world["client"]
    csrf = _login(client)
    form = _form(client.get("/ui/next").text)
    missing = client.post("/ui/label", data={**form, "label": "Walk"})
    assert missing.status_code == 403 and missing.text.startswith("missing CSRF token")
    wrong = client.post("/ui/label", data={**form, "label": "Walk"}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403 and wrong.text == "wrong CSRF token: reload the page"
    assert _stored_labels(world) == []
    done = client.post("/ui/label", data={**form, "label": "Walk"}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and "labelled Walk" in done.text
    assert _stored_labels(world) == [("w-b", "Walk", "alice", None)]


def test_login_with_wrong_password_gets_no_session(world):
    client = world["client"]
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/login", data={"name": "alice", "password": "nope-nope", "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.headers["location"].startswith("/login?error=")
    assert "watchlake_session" not in answer.cookies
    no_csrf = client.post("/login", data={"name": "alice", "password": PASSWORD}, follow_redirects=False)
    assert no_csrf.status_code == 403


@pytest.mark.parametrize(
    ("measure", "order"),
    [("margin", ["tie", "flat"]), ("entropy", ["flat", "tie"]), ("max_probability", ["flat", "tie"])],
)
def test_queue_order_follows_the_settings_measure(tmp_path, postgres_service, pg_schema, measure, order):
    """tie (0.5, 0.5, 0, 0) has the smallest margin; flat (0.4, 0.2, 0.2, 0.2) the largest entropy and the
    smallest top probability."""
    from watchlake.annotate import queue
    from watchlake.warehouse.connection import connect

    settings = make_settings(tmp_path, **warehouse_overrides(postgres_service, pg_schema))
    fill_queue(
        settings,
        [
            queue_row("tie", T0, {"Cook": 0.5, "Eat": 0.5, "Relax": 0.0, "Walk": 0.0}),
            queue_row("flat", T0, {"Cook": 0.4, "Eat": 0.2, "Relax": 0.2, "Walk": 0.2}),
        ],
    )
    connection = connect(settings)
    try:
        found = queue.list_open(connection, pg_schema, measure, T0)
    finally:
        connection.close()
    assert [window.device_id for window in found] == order


def test_a_failed_sink_loses_nothing(world):
    from watchlake.annotate.service import pending_labels, push_pending
    from watchlake.warehouse.connection import connect

    def down(labels):
        raise ConnectionError("feature store down")

    world["app"].state.ctx.sink = down
    response = _label(world, _lease(world), "Cook")
    assert response.status_code == 201 and response.json()["pushed"] is False
    assert _stored_labels(world) == [("w-b", "Cook", "alice", None)]
    connection = connect(world["settings"])
    try:
        schema = world["settings"].warehouse.schema_name
        assert [label.label for label in pending_labels(connection, schema)] == ["Cook"]
        assert push_pending(connection, schema, world["sink"], T0) == 1
        assert pending_labels(connection, schema) == []
    finally:
        connection.close()
    (pushed,) = world["sink"].labels
    assert (pushed.label, pushed.device_id, pushed.features["speed_mean"]) == ("Cook", "w-b", 1.2)
