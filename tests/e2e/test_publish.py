"""Publishing from the editor, in Chromium against the live stack: publish, make a key, call the flow with the
copied curl snippet over real HTTP, see the call on the Endpoints page, roll back and unpublish.
"""
from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.endpoints.conftest import tagged_spec

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SLUG = "ask-e2e"


def clipboard(b: Browser) -> str:
    return str(b.page.evaluate("() => navigator.clipboard.readText()"))


def copy(b: Browser, test_id: str) -> str:
    """Click a copy button, see it say so, and return what reached the clipboard."""
    from playwright.sync_api import expect

    button = b.page.get_by_test_id(test_id)
    button.click()
    expect(button).to_have_text("Copied")
    return clipboard(b)


def run_snippet(curl: str, key: str) -> tuple[int, Any]:
    """Run the copied curl command in a shell, as a user pasting it would; its HTTP status and JSON body."""
    done = subprocess.run(["sh", "-c", curl + " -w '\\n%{http_code}'"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATCHBAY_API_KEY": key}, check=True)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body)


def open_live_menu(b: Browser, item: str) -> None:
    b.page.get_by_test_id("live-version").click()
    b.page.get_by_test_id(item).click()


def test_publish_call_roll_back_and_unpublish_from_the_editor(browser: Browser) -> None:
    from playwright.sync_api import expect

    b, page = browser, browser.page
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=b.base)
    b.sign_in()
    graph = b.api("POST", "/api/graphs/", {"spec": tagged_spec("one", name="Ask E2E")})["body"]["id"]
    assert b.api("PUT", f"/api/graphs/{graph}/", {"spec": tagged_spec("two", name="Ask E2E")})["status"] == 201

    b.goto(f"/graphs/{graph}")
    publish = page.get_by_test_id("publish")
    expect(publish).to_be_enabled()
    expect(page.get_by_test_id("live-version")).to_have_count(0)  # never published: no badge
    publish.click()
    dialog = page.get_by_test_id("publish-dialog")
    expect(dialog.get_by_test_id("publish-slug")).to_have_value("ask-e2e")  # suggested from the flow's name
    expect(dialog.get_by_test_id("publish-version")).to_have_value("2")  # the version open in the editor
    dialog.get_by_test_id("publish-slug").fill("Not a slug!")
    dialog.get_by_test_id("publish-submit").click()
    expect(dialog.get_by_test_id("publish-slug-problem")).to_contain_text("lowercase letters")
    b.screenshot("publish-1-slug-problem")

    dialog.get_by_test_id("publish-slug").fill(SLUG)
    dialog.get_by_test_id("publish-version").select_option("1")
    dialog.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v1 · v2 not published")
    expect(dialog.get_by_test_id("publish-url")).to_have_text(f"{b.base}/api/v1/flows/{SLUG}/run")
    tabs = [t.inner_text() for t in dialog.locator("[data-testid^=snippet-tab-]").all()]
    assert tabs[:4] == ["curl", "curl · stream", "Python", "JavaScript"], tabs
    dialog.get_by_test_id("publish-version").select_option("2")
    dialog.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v2")
    dialog.get_by_test_id("snippet-tab-curl").click()
    curl = copy(b, "copy-snippet")
    assert curl.startswith("curl ") and "$PATCHBAY_API_KEY" in curl and f"/flows/{SLUG}/run" in curl
    b.screenshot("publish-2-published")

    dialog.get_by_test_id("create-api-key-link").click()
    page.get_by_test_id("api-keys-page").wait_for()
    page.get_by_test_id("api-key-name").fill("e2e app")
    page.get_by_test_id(f"api-key-scope-{SLUG}").check()
    page.get_by_test_id("api-key-rate").fill("30")
    page.get_by_test_id("api-key-create").click()
    secret = page.get_by_test_id("api-key-secret").inner_text()
    assert secret.startswith("pbk_")
    assert copy(b, "copy-api-key") == secret
    b.screenshot("publish-3-key-created")
    page.get_by_test_id("api-key-secret-done").click()
    expect(page.get_by_test_id("api-key-secret")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("api-key-row")).to_have_count(1)
    assert secret not in page.content()  # shown once: the list has only its prefix
    assert secret.startswith(page.get_by_test_id("api-key-prefix").inner_text().rstrip("…"))

    status, body = run_snippet(curl, secret)
    assert status == 200 and body["status"] == "succeeded" and body["output"]["version"] == "two", body

    page.reload()
    expect(page.get_by_test_id("api-key-calls")).to_have_text("1")
    page.get_by_test_id("endpoints-link").click()
    row = page.get_by_test_id("endpoint-row")
    expect(row.get_by_test_id("endpoint-calls")).to_have_text("1")
    expect(row.get_by_test_id("endpoint-errors")).to_have_text("0")
    expect(row.get_by_test_id("endpoint-version")).to_have_text("v2")
    assert row.get_by_test_id("endpoint-p50").inner_text().endswith(("ms", " s"))
    row.get_by_test_id("endpoint-history-toggle").click()
    releases = [r.inner_text() for r in page.get_by_test_id("release").all()]
    assert [r.split(" · ")[0] for r in releases] == ["alice published v2 (was v1)", "alice published v1"], releases
    b.screenshot("publish-4-endpoints-page")

    row.get_by_role("link", name="Ask E2E").click()
    open_live_menu(b, "menu-rollback")
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v1 · v2 not published")
    status, body = run_snippet(curl, secret)
    assert status == 200 and body["output"]["version"] == "one", body
    b.screenshot("publish-5-rolled-back")

    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-unpublish").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("endpoint-off")).to_have_text("Unpublished (was v1)")
    expect(page.get_by_test_id("live-version")).to_have_count(0)
    status, body = run_snippet(curl, secret)
    assert status == 404, body
    b.screenshot("publish-6-unpublished")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("publish-dialog")).to_have_count(0)

    # Only a saved version can go live: with unsaved changes the button says why it is off.
    page.evaluate("() => window.__patchbay.graph.getState().setMeta({ description: 'changed' })")
    expect(page.get_by_test_id("publish")).to_be_disabled()
    assert "Save your changes first" in (page.get_by_test_id("publish").get_attribute("title") or "")
    assert not console_errors and not b.errors, (console_errors, b.errors)


@pytest.fixture
def vic(alice) -> Any:  # type: ignore[no-untyped-def]
    """A viewer of alice's workspace (made before the browser starts: the ORM stays out of its loop)."""
    from django.contrib.auth import get_user_model

    from backend.graphs.models import Membership

    user = get_user_model().objects.create_user("vic", password="vic-pass-123")
    workspace = Membership.objects.get(user=alice).workspace
    Membership.objects.create(user=user, workspace=workspace, role=Membership.Role.VIEWER)
    return user


def test_a_viewer_sees_endpoints_and_keys_but_cannot_act(vic, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    """The pages hide what a viewer may not do; the server refuses it anyway (tests/authz has every route)."""
    from playwright.sync_api import expect

    b, page = browser, browser.page
    b.sign_in()
    graph = b.api("POST", "/api/graphs/", {"spec": tagged_spec("one", name="Shared")})["body"]["id"]
    assert b.api("POST", "/api/endpoints/", {"graph": graph, "slug": "shared"})["status"] == 201
    assert b.api("POST", "/api/api-keys/", {"name": "ops"})["status"] == 201
    # A slug the server refuses (taken) is named beside the field (its 400 is the console's one line here).
    other = b.api("POST", "/api/graphs/", {"spec": tagged_spec("one", name="Other")})["body"]["id"]
    b.goto(f"/graphs/{other}")
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-slug").fill("shared")
    page.get_by_test_id("publish-submit").click()
    expect(page.get_by_test_id("publish-slug-problem")).to_have_text("'shared' is taken")
    page.keyboard.press("Escape")
    b.goto("/")
    page.get_by_role("button", name="Sign out").click()
    b.sign_in("vic", "vic-pass-123")

    page.get_by_test_id("api-keys-link").click()
    expect(page.get_by_test_id("api-key-row")).to_have_count(1)
    expect(page.get_by_test_id("api-key-form")).to_have_count(0)
    expect(page.get_by_test_id("revoke-api-key")).to_have_count(0)
    assert b.api("POST", "/api/api-keys/", {"name": "mine"})["status"] == 403
    b.screenshot("publish-viewer-keys")

    page.get_by_test_id("endpoints-link").click()
    expect(page.get_by_test_id("endpoint-row").get_by_test_id("endpoint-version")).to_have_text("v1")
    b.goto(f"/graphs/{graph}")
    expect(page.get_by_test_id("live-version")).to_have_text("Live: v1")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("publish-submit")).to_be_disabled()
    expect(page.get_by_test_id("publish-unpublish")).to_be_disabled()
    assert b.api("POST", "/api/endpoints/shared/unpublish/", {})["status"] == 403
    assert not b.errors, b.errors


def test_copy_falls_back_to_the_copy_command_when_the_clipboard_api_refuses(browser: Browser) -> None:
    """Headless browsers and insecure pages refuse navigator.clipboard: the button still copies, and says so."""
    from playwright.sync_api import expect

    b, page = browser, browser.page
    page.add_init_script("""
        navigator.clipboard.writeText = () => Promise.reject(new DOMException("refused", "NotAllowedError"));
        document.addEventListener("copy", () => { window.__copied = document.activeElement.value; });
    """)
    b.sign_in()
    page.get_by_test_id("api-keys-link").click()
    page.get_by_test_id("api-key-name").fill("fallback")
    page.get_by_test_id("api-key-create").click()
    secret = page.get_by_test_id("api-key-secret").inner_text()
    page.get_by_test_id("copy-api-key").click()
    expect(page.get_by_test_id("copy-api-key")).to_have_text("Copied")
    assert page.evaluate("() => window.__copied") == secret
    assert page.locator("textarea").count() == 0  # the helper textarea is gone again
    assert not b.errors, b.errors
