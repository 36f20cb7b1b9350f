"""The annotation API under abuse, in the reliability tier: what tests/annotate does not already try.

Already covered there (tests/annotate/test_annotate_api.py, part of the suite CI runs, not repeated here):
no token (``test_api_without_token_is_refused``), wrong token (``test_api_with_wrong_token_is_refused``), forged
cross-site form, i.e. a POST without or with a wrong CSRF token and a forged session cookie
(``test_page_post_without_csrf_token_is_refused``, ``test_page_without_session_is_refused``,
``test_login_with_wrong_password_gets_no_session``), unknown class (``test_unknown_class_is_refused``), replayed
submission (``test_replayed_submission_is_refused``), oversized and malformed bodies
(``test_malformed_and_oversized_bodies_are_refused``). Added here: SQL metacharacters in every field a client
sends (note, class, ids, token, user name, path), with the warehouse's tables checked intact afterwards.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from fixtures_services import warehouse_overrides, warehouse_query
from watchlake.annotate.app import create_app

# The annotation tests' helpers (queue rows, accounts, a recording sink) live beside them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "annotate"))
from annotate_fixtures import (
    T0,
    RecordingSink,
    add_user,
    fill_queue,
    probabilities,
    queue_row,
)

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.services]

INJECTIONS = (
    "'); DROP TABLE {schema}.annotation_labels; --",
    "' OR '1'='1",
    '"; DELETE FROM {schema}.annotation_queue; --',
    "\\'; TRUNCATE {schema}.annotators CASCADE; --",
    "$$; DROP SCHEMA {schema} CASCADE; $$",
)
TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}' ORDER BY 1"


@pytest.fixture
def api(tmp_path: Path, postgres_service: Any, pg_schema: str) -> dict[str, Any]:
    settings = make_settings(tmp_path, **warehouse_overrides(postgres_service, pg_schema))
    fill_queue(settings, [queue_row(f"w-{i}", T0, probabilities(0.3 + i / 10)) for i in range(3)])
    token = add_user(settings, "alice")
    client = TestClient(create_app(settings, sink=RecordingSink(), readings=lambda *_: None))
    return {"settings": settings, "client": client, "auth": {"Authorization": f"Bearer {token}"}}


def _counts(settings: Any) -> dict[str, int]:
    tables = [row[0] for row in warehouse_query(settings, TABLES)]
    return {
        table: warehouse_query(settings, f"SELECT count(*) FROM {{schema}}.{table}")[0][0] for table in tables
    }


def test_sql_metacharacters_in_every_field_leave_the_tables_intact(api: dict[str, Any]) -> None:
    settings, client, auth = api["settings"], api["client"], api["auth"]
    schema = settings.warehouse.schema_name
    before = _counts(settings)
    injections = [text.format(schema=schema) for text in INJECTIONS]
    answers = []
    lease = client.post("/api/leases", headers=auth)
    assert lease.status_code == 201, lease.text
    lease_id = lease.json()["lease_id"]  # stays open: every hostile label below is refused
    for text in injections:
        answers.append(client.post("/api/leases", headers={"Authorization": f"Bearer {text}"}).status_code)
        answers.append(client.post(f"/api/leases/{text}/skip", headers=auth).status_code)
        for body in (
            {"label_id": text, "lease_id": lease_id, "label": "Walk", "note": ""},
            {"label_id": uuid.uuid4().hex, "lease_id": text, "label": "Walk", "note": ""},
            {"label_id": uuid.uuid4().hex, "lease_id": lease_id, "label": text, "note": ""},
        ):
            answers.append(client.post("/api/labels", json=body, headers=auth).status_code)
        page = client.get("/login")
        answers.append(
            client.post("/login", data={"name": text, "password": text}, follow_redirects=False).status_code
        )
        assert page.status_code == 200
    # Every hostile value was refused: 401 token, 404/422 ids and class, 403/303 login without a session.
    assert all(status in (303, 401, 403, 404, 409, 410, 422) for status in answers), answers
    # A note is free text: stored exactly as sent, executed never.
    note = " ".join(injections)
    stored = client.post(
        "/api/labels",
        json={"label_id": uuid.uuid4().hex, "lease_id": lease_id, "label": "Walk", "note": note},
        headers=auth,
    )
    assert stored.status_code == 201, stored.text
    after = _counts(settings)
    assert set(after) == set(before)
    assert after["annotation_labels"] == before["annotation_labels"] + 1
    assert (
        after["annotators"] == before["annotators"]
        and after["annotation_queue"] == before["annotation_queue"]
    )
    assert warehouse_query(settings, "SELECT note FROM {schema}.annotation_labels") == [(note,)]
