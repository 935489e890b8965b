from __future__ import annotations

import pytest

from loyalty.core.auth import ROLES_ATTR, revoke_key


def test_missing_malformed_and_unknown_keys_are_401(client, auth):
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer lk_abcdefgh_wrong"},
        {"Authorization": "Bearer nonsense"},
    ):
        response = client.get("/v1/program", headers=headers)
        assert response.status_code == 401, headers
        assert response.content_type == "application/problem+json"
        assert response.get_json()["code"] == "unauthorized"


def test_a_key_with_a_right_prefix_but_wrong_secret_is_401(client, auth):
    key = auth.key("admin")
    tampered = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    assert client.get("/v1/program", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_revoked_key_is_401(client, auth, db):
    headers = auth("staff")
    assert client.get("/v1/members", headers=headers).status_code == 200
    with db.unit_of_work() as session:
        assert revoke_key(session, auth.key("staff").split("_")[1])
    response = client.get("/v1/members", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "role, method, path, allowed",
    [
        ("pos", "GET", "/v1/members", False),
        ("storefront", "PATCH", "/v1/program", False),
        ("staff", "PATCH", "/v1/program", False),
        ("storefront", "GET", "/v1/program", True),
        ("pos", "GET", "/v1/program", True),
        ("admin", "GET", "/v1/members", True),
        ("storefront", "DELETE", "/v1/members/mbr_x", False),
    ],
)
def test_roles(client, auth, role, method, path, allowed):
    response = client.open(path, method=method, headers=auth(role), json={} if method == "PATCH" else None)
    if allowed:
        assert response.status_code not in (401, 403)
    else:
        assert response.status_code == 403
        assert response.get_json()["code"] == "forbidden"


def test_auth_comes_before_body_validation(client):
    response = client.post("/v1/members", json={"email": "bad"})
    assert response.status_code == 401


def test_every_v1_endpoint_declares_its_roles(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v1/"):
            view = app.view_functions[rule.endpoint]
            assert getattr(view, ROLES_ATTR, None), f"{rule.rule} has no @requires"


def test_ops_endpoints_need_no_key(client):
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert client.get(path).status_code == 200, path
