"""Browser tests: the console served on a real port, driven by headless Chromium through Playwright.

Debian's `chromium` package is the browser (`executable_path`): Playwright's own browser download
can't run here, and `make test` installs the package when it is missing. Each test gets the app on
the test database (SQLite or PostgreSQL, like every other test) served by werkzeug in a thread,
and a fresh browser context. A page that logs a JavaScript error, breaks the Content-Security-Policy,
fails a request or gets a 5xx fails its test, at teardown, with the list of what went wrong.

Screenshots of the main pages go to var/screenshots/<database>/ on every run (the test artifact);
with LOYALTY_SCREENSHOTS=docs/screenshots the README's three are written there too.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import BACKEND

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LOYALTY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "var" / "screenshots" / BACKEND
# The README shows these; they are written to LOYALTY_SCREENSHOTS only when it is set.
README_SHOTS = {"today", "member", "campaign-results"}
# Generous: CI runs the suite on two cores beside PostgreSQL; a loaded machine once took over 5 s to
# show a page (expect's own default), and a wait that ends early fails a flow that is right.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)
# Chromium's own console error for a CSP violation names the script, not what was blocked: this
# reports the directive and the element too. Added through the DevTools protocol, so the CSP
# under test doesn't apply to it.
REPORT_CSP = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP violation: " + e.violatedDirective + " at " + e.sourceFile + ":" + e.lineNumber + " sample=" +
  JSON.stringify(e.sample) + " element=" +
  (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 200) : "")));"""


# .ci/run runs the suite once more under libfaketime (LD_PRELOAD): the Playwright driver and
# Chromium would inherit it, and Chromium under a faked clock never finishes loading a page. The
# browser's own clock matters to no test (the server's is pinned), so both start without it.
FAKE_CLOCK = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    with pytest.MonkeyPatch.context() as patch:
        for name in FAKE_CLOCK:
            patch.delenv(name, raising=False)
        playwright = sync_playwright().start()  # the driver starts with the environment as it is now
    try:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
    finally:
        playwright.stop()


def _closing(app):
    """The app, its every answer closed even when werkzeug's development server gives up on it. When
    the browser hangs up while an answer is sent (a favicon the page no longer waits for), the
    server's clean-up reads the dead socket, fails, and never calls the answer's close(): the static
    file it streamed was left to the garbage collector, whose ResourceWarning then failed whichever
    test ran next. Here the abandoned generator is finalised at once, and closes the answer."""

    def wsgi(environ, start_response):
        answer = app(environ, start_response)
        try:
            yield from answer
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return wsgi


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 at a free port, for as long as the test runs."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass
class Problems:
    """Everything a page did wrong while the test ran."""

    base_url: str
    seen: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" or (
            message.type == "warning" and ("Content Security Policy" in text or "Content-Security-Policy" in text)
        ):
            where = message.location.get("url", "") if message.location else ""
            self.seen.append(f"console {message.type}: {text} ({where} on {message.page.url if message.page else '?'})")

    def page_error(self, error: Exception) -> None:
        self.seen.append(f"JavaScript error: {error}")

    def request_failed(self, request: Request) -> None:
        if (
            request.failure == "net::ERR_ABORTED"
            and request.resource_type in ("xhr", "fetch")
            and request.headers.get("hx-request")
        ):
            return  # htmx cancelled its own request for a newer one (hx-sync replace): by design
        self.seen.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def response(self, response: Response) -> None:
        if response.status >= 500:
            self.seen.append(f"server error: {response.request.method} {response.url} -> {response.status}")

    def forgive(self, fragment: str) -> None:
        """Drop what a test caused on purpose (a refused sign-in logs its 401 as a console error)."""
        self.seen[:] = [problem for problem in self.seen if fragment not in problem]

    def check(self) -> None:
        if self.seen:
            pytest.fail("the browser saw:\n  " + "\n  ".join(self.seen), pytrace=False)


class Console:
    """A browser tab on the live console, with the helpers the flows share."""

    def __init__(self, page: Page, base_url: str, problems: Problems) -> None:
        self.page = page
        self.base_url = base_url
        self.problems = problems

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> Response | None:
        response = self.page.goto(self.url(path))
        assert response is not None and response.status == 200, (path, response and response.status)
        return response

    def sign_in(self, key: str) -> None:
        """Signing in with the mouse-free path every real user also has: fill, click."""
        self.page.goto(self.url("/console/sign-in"))
        self.page.get_by_label("API key").fill(key)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.url("/console"))

    def settled(self) -> None:
        """Wait until htmx has finished its swaps (boosted links and forms are AJAX)."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_function("() => !document.querySelector('.htmx-request')")

    def screenshot(self, name: str) -> Path:
        """A full-page picture for the artifacts; the README's pictures also where LOYALTY_SCREENSHOTS says."""
        self.settled()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # caret="initial": hiding the caret leaves style="" on every input, which htmx then copies
        # on its next swap, and the CSP (rightly) refuses: a violation the test itself would cause.
        self.page.screenshot(path=path, full_page=True, caret="initial")
        readme = os.environ.get("LOYALTY_SCREENSHOTS")
        if readme and name in README_SHOTS:
            target = ROOT / readme
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / f"{name}.png")
        return path

    def no_horizontal_scroll(self) -> None:
        widths = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{self.page.url} scrolls sideways: content {widths[0]} px in {widths[1]} px"


def _open(browser, live_server, viewport: dict) -> tuple[Console, object]:
    context = browser.new_context(viewport=viewport, locale="en-US", base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_CSP)
    page = context.new_page()
    problems = Problems(live_server)
    page.on("console", problems.console)
    page.on("pageerror", problems.page_error)
    page.on("requestfailed", problems.request_failed)
    page.on("response", problems.response)
    return Console(page, live_server, problems), context


@pytest.fixture
def console_tab(browser, live_server):
    """A fresh browser (no cookies) on the live console at a desktop size."""
    tab, context = _open(browser, live_server, {"width": 1280, "height": 900})
    yield tab
    context.close()
    tab.problems.check()


@pytest.fixture
def tablet_tab(browser, live_server):
    """The same at 768 x 1024, a tablet held upright: the narrowest size the console is built for."""
    tab, context = _open(browser, live_server, {"width": 768, "height": 1024})
    yield tab
    context.close()
    tab.problems.check()


@pytest.fixture
def zh(app):
    """The console's own Chinese for an English string (its catalogs), so a flow in Chinese finds
    buttons and labels by what a Chinese reader sees. `zh.prefix("Callback due %(when)s")` is the
    part before the first value. An untranslated string comes back in English, and the page's
    English-leftovers check then fails."""

    class Chinese:
        def __call__(self, text: str, **values) -> str:
            with app.test_request_context("/console"), force_locale("zh_Hans"):
                return gettext(text, **values)

        def prefix(self, text: str) -> str:
            names = dict.fromkeys(re.findall(r"%\((\w+)\)s", text), "\x00")
            return self(text, **names).split("\x00")[0].strip()

    return Chinese()
