from __future__ import annotations

import json

import pytest
from flask_smorest import Blueprint
from werkzeug.test import EnvironBuilder

from loyalty import create_app
from loyalty.core.auth import requires
from loyalty.core.web import request_session
from loyalty.members.models import Member


def _is_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"/problems/{code}" and body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


def test_unknown_path_is_404_problem(client):
    _is_problem(client.get("/v1/nothing-here"), 404, "not_found")
    _is_problem(client.get("/nothing"), 404, "not_found")


def test_wrong_method_is_405_with_allow(client, auth):
    response = client.put("/v1/members", headers=auth())
    _is_problem(response, 405, "method_not_allowed")
    assert {"GET", "POST"} <= set(response.headers["Allow"].replace(" ", "").split(","))


def test_malformed_json_is_400(client, auth):
    response = client.post("/v1/members", data="{bad", content_type="application/json", headers=auth())
    _is_problem(response, 400, "malformed_json")


def test_non_json_body_is_415(client, auth):
    response = client.post(
        "/v1/members", data="name=x", content_type="application/x-www-form-urlencoded", headers=auth()
    )
    _is_problem(response, 415, "unsupported_media_type")


def test_json_that_is_not_an_object_is_422(client, auth):
    response = client.post("/v1/members", data="[1, 2]", content_type="application/json", headers=auth())
    _is_problem(response, 422, "validation_error")


def test_oversized_body_is_413_and_writes_nothing(database_url, db, auth):
    from tests.conftest import make_config

    app = create_app(make_config(database_url, max_request_bytes=2000), database=db)
    client = app.test_client()
    body = json.dumps({"name": "x" * 5000})
    response = client.post("/v1/members", data=body, content_type="application/json", headers=auth())
    _is_problem(response, 413, "payload_too_large")
    response = client.post(
        "/v1/members", data=body, content_type="application/json", headers=auth(**{"Idempotency-Key": "big-1"})
    )
    _is_problem(response, 413, "payload_too_large")


def test_unexpected_exception_is_500_logged_with_request_id_never_leaked(database_url, db, auth, capfd):
    from tests.conftest import make_config

    app = create_app(make_config(database_url), database=db)
    blp = Blueprint("boom", __name__, url_prefix="/v1/boom")

    @blp.route("", methods=["POST"])
    @requires("staff")
    def boom():
        """Fails after writing"""
        session = request_session()
        session.add(
            Member(
                id="mbr_boom",
                member_number="000000000000",
                consent={},
                status="active",
                enrolled_at=__import__("loyalty.core.db", fromlist=["utcnow"]).utcnow(),
                updated_at=__import__("loyalty.core.db", fromlist=["utcnow"]).utcnow(),
            )
        )
        session.flush()
        raise RuntimeError("SELECT secret FROM internals")

    app.extensions["loyalty.api"].register_blueprint(blp)
    response = app.test_client().post("/v1/boom", headers=auth(**{"X-Request-Id": "trace-123"}))
    body = _is_problem(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)
    assert "trace-123" in body["detail"]
    logged = capfd.readouterr().err
    # Its type and where it was raised are logged; its message never (it may carry personal data).
    assert "RuntimeError" in logged and "in boom" in logged and "trace-123" in logged
    assert "SELECT secret FROM internals" not in logged
    with db.unit_of_work() as session:
        assert session.get(Member, "mbr_boom") is None  # the half-done work was rolled back


@pytest.mark.parametrize("incoming, echoed", [("abc-123", True), ("x" * 200, False), ("bad id;<script>", False)])
def test_request_id_is_echoed_when_sane_and_made_otherwise(client, incoming, echoed):
    response = client.get("/healthz", headers={"X-Request-Id": incoming})
    if echoed:
        assert response.headers["X-Request-Id"] == incoming
    else:
        assert response.headers["X-Request-Id"] != incoming and len(response.headers["X-Request-Id"]) == 32


def test_a_request_id_ending_in_a_newline_is_not_echoed(app):
    """Straight through WSGI: a test client refuses such a header before it is sent; a server that
    passes it on must not make the answer fail on it (`$` also matched before a final newline)."""
    seen = {}
    environ = EnvironBuilder(path="/healthz").get_environ()
    environ["HTTP_X_REQUEST_ID"] = "abc\n"
    body = b"".join(app(environ, lambda status, headers, exc_info=None: seen.update(status=status, headers=headers)))
    assert seen["status"].startswith("200"), body
    echoed = dict(seen["headers"])["X-Request-Id"]
    assert "\n" not in echoed and len(echoed) == 32


def test_problem_types_are_explained(client):
    assert client.get("/problems/duplicate_member").get_json()["code"] == "duplicate_member"
    assert client.get("/problems/nope").status_code == 404


def test_list_limits_are_validated(client, auth):
    for limit in ("0", "501", "abc"):
        body = _is_problem(client.get(f"/v1/members?limit={limit}", headers=auth()), 422, "validation_error")
        assert "limit" in body["errors"]
    _is_problem(client.get("/v1/members?cursor=%%%", headers=auth()), 400, "invalid_cursor")
    _is_problem(client.get("/v1/members?cursor=WzEsMiwzXQ", headers=auth()), 400, "invalid_cursor")


def test_pagination_walks_every_member_once(client, auth):
    from tests.factories import create_member

    made = {create_member(client, auth)["id"] for _ in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/members?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=auth()).get_json()
        seen.extend(m["id"] for m in page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
