"""Browser tests: the real app on a live local server, driven by Playwright in Debian's Chromium.

Each test gets its own server over a fresh database with processes/ deployed and the demo world
seeded, and a clock frozen at DEFAULT_NOW that the test moves (`clock.advance(...)`): the server runs
in this process, so it reads the same clock. Playwright's own browser download is never used:
Chromium comes from Debian (`apt-get install -y chromium`, done by `.ci/run`). Without Chromium the
tests skip with a reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.audit.service import Actor
from app.demo.seed import seed_demo
from app.process_models.service import deploy_directory
from tests.conftest import IN_CI, ROOT, forget_compiled_statements, make_app

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SERIOUS = {"serious", "critical"}


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        message = "Chromium not found: apt-get install -y chromium (.ci/run does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def playwright_browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@dataclass
class LiveServer:
    url: str
    app: object

    def session(self):
        return self.app.extensions["database"].new_session()


@pytest.fixture
def live_server(tmp_path, sqlite_template, clock):
    """The product on 127.0.0.1 (a free port), SQLite, processes/ and forms/ deployed, demo data."""
    db_path = tmp_path / "browser.db"
    shutil.copyfile(sqlite_template, db_path)
    app = make_app(
        f"sqlite:///{db_path}",
        clock,
        PROCESSES_DIR=str(ROOT / "processes"),
        FORMS_DIR=str(ROOT / "forms"),
        TESTING=False,
    )
    database = app.extensions["database"]
    with database.transaction() as session:
        deploy_directory(
            session,
            app.extensions["engine"],
            processes_dir=ROOT / "processes",
            forms_dir=ROOT / "forms",
            actor=Actor(label="browser-test"),
        )
        seed_demo(session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=5)
    database.dispose()
    forget_compiled_statements()


@pytest.fixture
def page(playwright_browser, live_server):
    """A fresh browser context (own cookies) on the live server, Swedish, a phone-sized or desktop window."""
    context = playwright_browser.new_context(
        base_url=live_server.url, locale="sv-SE", bypass_csp=True, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def axe_violations(page) -> list[dict]:
    """Serious and critical accessibility violations on the current page (axe-core from npm, WCAG 2.1 AA)."""
    # A click that navigates may still be loading the next page: check that page, once it has loaded.
    page.wait_for_load_state("load")
    page.wait_for_function("document.head !== null && document.readyState === 'complete'")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/ (the README's pictures come from here)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in_as(page, display_name: str, unit: str | None = None) -> None:
    """The development login: choose a demo user (and a unit when they have several)."""
    page.goto("/login")
    page.get_by_role("button", name=display_name).first.click()
    if unit is not None:
        page.get_by_label(unit).check()
        page.get_by_role("button", name="Fortsätt").click()
