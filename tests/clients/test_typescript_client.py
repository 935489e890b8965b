"""A TypeScript client generated from the served document type-checks, and runs, a storefront flow.

openapi-typescript turns the document the app serves into types; tests/clients/typescript/storefront.ts
drives the whole storefront conversation through openapi-fetch with them, under strict compiler
settings and with no escape hatch (no casts, `any`, `!` or @ts- directives: no_casts.mjs checks).
A field the document leaves optional or nullable that the flow relies on, or a wrong type, is a
compile error here. The second test runs the compiled flow with node against the app on 127.0.0.1,
so the document is shown to describe what the service really answers.

The document is the same whichever database serves it, so this runs on the SQLite run only. Node
and npm are required: `make test` installs them (Debian's nodejs, npm) and the locked packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from loyalty import create_app
from tests.clock import days_ago
from tests.conftest import BACKEND, make_config

PACKAGE = Path(__file__).resolve().parent / "typescript"
FLOW = ("storefront.ts", "tsconfig.json", "package.json", "no_casts.mjs")
# CI runs the suite again under libfaketime (.ci/at); node needs no faked clock (the server's is
# pinned by the test), and its timers are better off without one, as Chromium's are.
FAKE_CLOCK = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")
TIMEOUT = 300  # seconds; npm ci on a cold cache is the slowest step

pytestmark = pytest.mark.skipif(
    BACKEND == "postgres", reason="the document doesn't depend on the database: checked on the SQLite run only"
)


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in FAKE_CLOCK}
    return {**env, "NO_COLOR": "1", "npm_config_update_notifier": "false", **extra}


def _run(command: list[str], cwd: Path, **extra: str) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=_env(**extra), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited {result.returncode} in {cwd}:\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


def _installed_is_locked() -> bool:
    """npm ci leaves node_modules/.package-lock.json: the same packages at the same versions as the lock."""
    hidden = PACKAGE / "node_modules" / ".package-lock.json"
    if not hidden.is_file():
        return False
    locked = json.loads((PACKAGE / "package-lock.json").read_text())["packages"]
    installed = json.loads(hidden.read_text())["packages"]
    return {path: entry.get("version") for path, entry in locked.items() if path} == {
        path: entry.get("version") for path, entry in installed.items()
    }


@pytest.fixture(scope="module")
def node_packages() -> Path:
    """The locked packages in tests/clients/typescript/node_modules (installed here only when missing or stale)."""
    missing = [tool for tool in ("node", "npm", "npx") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the TypeScript client check needs Node.js and npm "
            "(`make test` installs them: apt-get install nodejs npm)",
            pytrace=False,
        )
    if not _installed_is_locked():
        _run(["npm", "ci", "--no-audit", "--no-fund"], PACKAGE)
    return PACKAGE / "node_modules"


@pytest.fixture(scope="module")
def workspace(node_packages, database_url, shared_db, tmp_path_factory) -> Path:
    """A copy of the flow beside types generated from the document the app serves."""
    app = create_app(make_config(database_url), database=shared_db)
    document = app.test_client().get("/openapi.json")
    assert document.status_code == 200
    root = tmp_path_factory.mktemp("typescript-client")
    for name in FLOW:
        shutil.copyfile(PACKAGE / name, root / name)
    (root / "node_modules").symlink_to(node_packages, target_is_directory=True)
    (root / "openapi.json").write_text(json.dumps(document.get_json()))
    # A default in a request body means "may be left out"; by default openapi-typescript would
    # make the client send every such field. Responses are unaffected: their fields are required.
    _run(
        [
            "npx",
            "--no",
            "--",
            "openapi-typescript",
            "openapi.json",
            "--output",
            "generated/schema.ts",
            "--default-non-nullable",
            "false",
        ],
        root,
    )
    return root


def test_generated_client_type_checks_the_storefront_flow(workspace):
    _run(["npx", "--no", "--", "tsc", "--noEmit", "-p", "."], workspace)
    _run(["node", "no_casts.mjs", "storefront.ts"], workspace)


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="typescript-client-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_generated_client_runs_the_storefront_flow(workspace, live_server, auth):
    # Type errors are the test above's to report; this one only needs JavaScript.
    _run(["npx", "--no", "--", "tsc", "-p", ".", "--noCheck"], workspace)
    output = _run(
        ["node", "dist/storefront.js"],
        workspace,
        LOYALTY_BASE_URL=live_server,
        LOYALTY_STOREFRONT_KEY=auth.key("storefront"),
        LOYALTY_POS_KEY=auth.key("pos"),
        LOYALTY_STAFF_KEY=auth.key("staff"),
        LOYALTY_FLOW_RUN="tsflow",
        # Past the return window, so the order's points can be spent at once.
        LOYALTY_PLACED_AT=days_ago(40).isoformat(),
    )
    result = json.loads(output.strip().splitlines()[-1])
    assert result["ok"] is True and result["listed"] == 3
    assert result["points"] > 0 and result["reversed"] > 0
    assert result["message"]
