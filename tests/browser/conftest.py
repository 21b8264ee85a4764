"""Browser journeys: the app served by a real HTTP server, driven by Debian's chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from idp.clock import FrozenClock
from idp.config import Settings
from idp.demo import DemoSummary, load_demo_district
from idp.services import Services
from tests.conftest import committed
from tests.ports import free_port

CHROMIUM = os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags chromium keeps calling out to a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Playwright waits 5 s for an expectation by default. A CI machine busy with the rest of the
# suite can take longer to run a page's script (the username live check waits 400 ms, then
# fetches), and a missed deadline there is a slow machine, not a failure: wait up to 15 s.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium (a test tool's own browser download cannot work here)."""
    if shutil.which(CHROMIUM) is None:
        message = f"chromium not found at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the test's app on a free local port; yield its base URL."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


# The port of the `dev_server` tests: the issuer names it, so emailed links lead back.
DEV_PORT = free_port()


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """`dev_server` tests run in development (mail goes to /dev/mailbox) at DEV_PORT."""
    if request.node.get_closest_marker("dev_server") is None:
        return settings
    return replace(settings, env="development", issuer=f"http://127.0.0.1:{DEV_PORT}")


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The app on DEV_PORT, the port its issuer names."""
    httpd = make_server("127.0.0.1", DEV_PORT, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{DEV_PORT}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(locale="en-US")
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture
def demo(services: Services, clock: FrozenClock) -> DemoSummary:
    """The demo district, as `idp demo load` leaves it (the staff desk's tests)."""
    with committed():
        return load_demo_district(services, clock)
