from __future__ import annotations

from pathlib import Path

import yaml

from loyalty.config import PROJECT_ROOT

SPEC_FILE = PROJECT_ROOT / "api_spec" / "openapi.yaml"


def test_served_document_is_openapi_3_1(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_committed_spec_matches_what_the_app_serves(client):
    served = client.get("/openapi.json").get_json()
    committed = yaml.safe_load(Path(SPEC_FILE).read_text())
    assert committed == served, "api_spec/openapi.yaml is stale: run `make openapi` (loyalty openapi write)"


def test_every_operation_documents_auth_and_errors(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
            assert operation.get("summary"), (method, path)
            if method == "post":
                names = [p.get("name") for p in operation.get("parameters", [])]
                assert "Idempotency-Key" in names, path


def test_every_v1_route_is_documented(app, client):
    spec = client.get("/openapi.json").get_json()
    documented = {(p, m.upper()) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v1/"):
            path = rule.rule.replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method) in documented, (path, method)


def test_docs_page_uses_our_own_swagger_ui(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        with client.get(f"/static/swagger-ui/{asset}") as response:
            assert response.status_code == 200, asset
