"""Fixtures for the real-browser tests: ONE JupyterLab server and ONE Chromium per session.

The server serves a temporary copy of notebooks/*.ipynb (as collected) plus a small sample
notebook built on the engine's fixtures. Each test gets a fresh browser context (its own
cookies and JupyterLab workspace) and shuts its kernel down afterwards, so tests do not
depend on each other. Without /usr/bin/chromium or Playwright every browser test is skipped
with the reason, and the rest of the suite runs as usual.

Screenshots go to $COURSE_ARTIFACTS/browser (default tests/artifacts/browser, gitignored).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from labdriver import REPO, VIEWPORT, LabServer, launch_browser, open_page, prepare_root, why_no_browser

ARTIFACTS = Path(os.environ.get("COURSE_ARTIFACTS", REPO / "tests" / "artifacts")) / "browser"
NO_BROWSER = why_no_browser()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in a real Chromium (deselect with -m 'not browser')")
    config.addinivalue_line(
        "markers", "a11y: accessibility checks in the real browser: axe-core audit, keyboard, figure alt text")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab(tmp_path_factory, lessons):
    """The JupyterLab server (started once), serving a temporary copy of the notebooks."""
    if NO_BROWSER:
        pytest.skip(NO_BROWSER)
    root = tmp_path_factory.mktemp("lab-root")
    prepare_root(root, lessons)
    server = LabServer(root, tmp_path_factory.mktemp("lab-state")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lessons() -> list[Path]:
    from labdriver import lesson_notebooks

    return lesson_notebooks()


@pytest.fixture(scope="session")
def browser():
    if NO_BROWSER:
        pytest.skip(NO_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    """One context for the session, so JupyterLab's scripts come from the HTTP cache after the
    first lesson. Tests stay apart: each opens its notebook in a new workspace and page."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context, lab, request, artifacts):
    yield from open_page(browser_context, lab, request, artifacts)
