"""The served OpenAPI document generates a clean Python client that a shop can use as it comes.

openapi-python-client generates `loyalty_client` from /openapi.json with no warning; `mypy --strict`
passes over the generated package and tests/clients/python_storefront.py, a checkout flow (enrol,
order, balance, page through members, a 422 problem) that has no cast, no `# type: ignore` and no
`Any`; then that script runs against the app on a real port and what it saw is checked through the API.

SQLite only: the document is the same on either database, and the flow's API calls are covered on
PostgreSQL by tests/api; the generator and mypy cost seconds that a second run would only repeat.
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import tokenize
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from loyalty import create_app
from tests.clock import now
from tests.conftest import BACKEND, make_config

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "python_storefront.py"
GENERATOR_CONFIG = HERE / "openapi-python-client.yaml"
PACKAGE = "loyalty_client"
# The generator's post-hooks call `ruff` by name, so the venv's bin must be on PATH.
VENV_BIN = Path(sys.executable).parent
MYPY_CONFIG = """\
[mypy]
strict = True

[mypy-python_storefront]
disallow_any_explicit = True
disallow_any_expr = True
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BACKEND == "postgres", reason="the document and the client don't depend on the database"),
]


def _run(args: list[str], cwd: Path, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, database_url, shared_db) -> Path:
    """A folder holding openapi.json as served and the `loyalty_client` package generated from it."""
    work = tmp_path_factory.mktemp("python-client")
    served = create_app(make_config(database_url), database=shared_db).test_client().get("/openapi.json")
    assert served.status_code == 200
    (work / "openapi.json").write_text(json.dumps(served.get_json()))
    result = _run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            "openapi.json",
            "--output-path",
            PACKAGE,
            "--meta",
            "none",
            "--config",
            str(GENERATOR_CONFIG),
            "--fail-on-warning",
        ],
        cwd=work,
    )
    output = (result.stdout + result.stderr).strip()
    # The generator reports problems in the document (and skipped post-hooks) as warnings but still
    # exits 0 for most of them: anything besides its one progress line fails the test.
    assert result.returncode == 0 and output == f"Generating {PACKAGE}", output
    assert (work / PACKAGE / "api" / "members" / "members_create.py").is_file()
    shutil.copy(SCRIPT, work / SCRIPT.name)
    return work


def test_the_storefront_script_claims_no_shortcuts():
    source = SCRIPT.read_text()
    names = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    comments = [
        tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT
    ]
    assert not names & {"cast", "Any"}, names & {"cast", "Any"}
    assert not [c for c in comments if "type:" in c], comments


def test_mypy_strict_passes_on_the_generated_client_and_the_storefront_flow(generated):
    (generated / "mypy.ini").write_text(MYPY_CONFIG)
    result = _run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", ".mypy_cache", PACKAGE, SCRIPT.name],
        cwd=generated,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checked = int(result.stdout.split("no issues found in ")[1].split()[0])
    generated_modules = len(list((generated / PACKAGE).rglob("*.py")))
    assert checked == generated_modules + 1, result.stdout


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="python-client-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_the_storefront_flow_runs_against_a_live_server(generated, live_server, client, auth):
    placed_at = now() - timedelta(days=30)
    result = _run(
        [sys.executable, SCRIPT.name, live_server, auth.key("admin"), placed_at.isoformat(), "shop-a"],
        cwd=generated,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    headers = auth("admin")
    enrolled = seen["enrolled"]
    assert len(set(enrolled)) == 3
    for member_id, number in zip(enrolled, seen["member_numbers"], strict=True):
        member = client.get(f"/v1/members/{member_id}", headers=headers).get_json()
        assert member["member_number"] == number and "shop-a" in member["tags"]
    # Three members at two a page: two pages, each member once, the cursor followed to its end.
    assert sorted(seen["paged"]) == sorted(enrolled) and seen["pages"] == 2

    order = client.get(f"/v1/orders/{seen['order_id']}", headers=headers).get_json()
    assert order["member_id"] == enrolled[0]
    balance = client.get(f"/v1/members/{enrolled[0]}/balance", headers=headers).get_json()
    assert seen["points"] == balance["available"] + balance["pending"]
    assert seen["points"] == seen["points_earned"] == order["points_earned"] + order["bonus_points"] > 0

    assert seen["problem"] == {"status": 422, "code": "validation_error", "fields": ["email"]}
    listed = client.get("/v1/members?tag=shop-a&limit=50", headers=headers).get_json()["data"]
    assert len(listed) == 3  # the rejected enrolment left no member behind
