"""Browser tests: the built canvas in Debian's Chromium, against the live stack (Daphne + a Celery worker).

Playwright's sync API keeps an event loop in the test's thread, so Django's ORM is
used only before the browser starts; inside a test, the page talks to the API itself.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "alice-pass-123"


@pytest.fixture(scope="session")
def built_canvas() -> Path:
    """The Vite build that Django serves; built here when `make test` did not build it already."""
    index = FRONTEND / "dist" / "index.html"
    if not index.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("frontend/dist is missing and npm is not installed: run `make frontend` first")
        if not (FRONTEND / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    return index


@pytest.fixture
def slow_demo_models(db) -> None:  # type: ignore[no-untyped-def]
    """Demo models that take a moment and write their answers a few words at a time, so a run can be watched."""
    from backend.providers.models import ModelAlias

    for alias, cost_in, cost_out in (("fast", 0.15, 0.60), ("frontier", 2.5, 10.0), ("judge", 1.0, 4.0)):
        ModelAlias.objects.update_or_create(alias=alias, defaults={
            "model": f"demo/{alias}", "input_cost_per_mtok": cost_in, "output_cost_per_mtok": cost_out,
            "demo_latency_ms": 350, "demo_tokens_per_s": 40, "description": "Demo model for the browser tests"})


class Browser:
    """One page in headless Chromium, signed in or not, with helpers the tests share."""

    def __init__(self, page: Any, base_url: str):
        self.page = page
        self.base = base_url
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def sign_in(self, username: str = "alice", password: str = PASSWORD) -> None:
        self.goto("/")
        self.page.get_by_test_id("login-form").wait_for()
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.get_by_test_id("login-submit").click()
        self.page.get_by_test_id("signed-in-as").wait_for()

    def api(self, method: str, url: str, body: Any = None) -> Any:
        """Call the API from inside the page: the session cookie and the CSRF header, as the app does."""
        return self.page.evaluate(
            """async ([method, url, body]) => {
                const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
                const r = await fetch(url, {method, credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                    body: body === null ? undefined : JSON.stringify(body)});
                return {status: r.status, body: r.status === 204 ? null : await r.json()};
            }""", [method, url, body])

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def wait_for_run(self, run_id: str, timeout_s: float = 30) -> dict[str, Any]:
        """The run record once it has ended (polled through the page, as the app reads it)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            run = self.api("GET", f"/api/runs/{run_id}/")["body"]
            if run["status"] not in ("queued", "running"):
                return run
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not finish")

    def finished_run(self, graph_id: int, run_input: Any) -> dict[str, Any]:
        """Start a run of the graph through the API and return its record once it has ended."""
        started = self.api("POST", "/api/runs/", {"graph": graph_id, "input": run_input})
        assert started["status"] in (200, 201, 202), started
        return self.wait_for_run(started["body"]["id"])

    def toast(self, kind: str) -> Any:
        return self.page.get_by_test_id(f"toast-{kind}").last


@pytest.fixture
def browser(live_stack, built_canvas, alice, slow_demo_models) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
        context.set_default_timeout(30_000)  # generous: the test machine is shared with other suites
        page = context.new_page()
        try:
            yield Browser(page, live_stack.http_url)
        finally:
            context.close()
            chromium.close()


def example(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "graphs" / f"{name}.json").read_text())
