"""The Members page, driven in Chromium: an admin invites, changes a role and removes; a viewer only reads."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import Browser

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(alice) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Accounts that are not members yet (made before the browser starts: the ORM stays out of its loop)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return {"carol": users.create_user("carol", email="carol@example.test", password="carol-pass-123"),
            "vic": users.create_user("vic", email="vic@example.test", password="vic-pass-123")}


def rows(b: Browser, count: int) -> list[tuple[str, str]]:
    """The table once it has ``count`` rows (each change reloads it after its toast)."""
    from playwright.sync_api import expect

    expect(b.page.get_by_test_id("member-row")).to_have_count(count)
    out = []
    for row in b.page.get_by_test_id("member-row").all():
        name = row.locator("td").first.inner_text().replace("(you)", "").strip()
        select = row.get_by_test_id("member-role")
        role = select.input_value() if select.count() else row.get_by_test_id("member-role-text").inner_text()
        out.append((name, role))
    return out


def invite(b: Browser, who: str, role: str) -> None:
    b.page.get_by_test_id("invite-user").fill(who)
    b.page.get_by_test_id("invite-role").select_option(role)
    b.page.get_by_test_id("invite-submit").click()


def test_an_admin_manages_members_and_a_viewer_reads_them(people, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    b, page = browser, browser.page
    b.sign_in()
    page.get_by_test_id("members-link").click()
    page.get_by_test_id("member-list").wait_for()
    assert rows(b, 1) == [("alice", "admin")]
    # The last admin cannot demote or remove herself: the controls say why instead of failing later.
    assert page.get_by_test_id("member-role").is_disabled() and page.get_by_test_id("remove-member").is_disabled()

    invite(b, "nobody-here", "viewer")
    assert "no account has this username or email" in page.get_by_test_id("invite-problem").inner_text()
    invite(b, "carol", "editor")
    page.get_by_text("carol joined as editor.").wait_for()
    invite(b, "VIC@example.test", "viewer")
    page.get_by_text("vic joined as viewer.").wait_for()
    assert rows(b, 3) == [("alice", "admin"), ("carol", "editor"), ("vic", "viewer")]

    carol = page.get_by_test_id("member-row").nth(1)
    carol.get_by_test_id("member-role").select_option("admin")
    page.get_by_text("carol is now an admin.").wait_for()
    from playwright.sync_api import expect

    expect(page.get_by_test_id("member-row").first.get_by_test_id("remove-member")).to_be_enabled()  # two admins
    carol.get_by_test_id("remove-member").click()
    page.get_by_test_id("confirm-yes").click()
    page.get_by_text("carol was removed.").wait_for()
    assert rows(b, 2) == [("alice", "admin"), ("vic", "viewer")]
    b.screenshot("members-admin")
    roles = b.api("GET", "/api/workspaces/" + str(b.api("GET", "/api/session/")["body"]["workspace"]["id"])
                  + "/members/")["body"]
    assert [(m["username"], m["role"]) for m in roles["members"]] == [("alice", "admin"), ("vic", "viewer")]

    page.get_by_role("button", name="Sign out").click()
    b.sign_in("vic", "vic-pass-123")
    b.goto("/members")
    page.get_by_test_id("member-list").wait_for()
    assert page.get_by_test_id("your-role").inner_text() == "You are a viewer"
    assert rows(b, 2) == [("alice", "admin"), ("vic", "viewer")]
    assert page.get_by_test_id("invite-form").count() == 0 and page.get_by_test_id("remove-member").count() == 0
    b.screenshot("members-viewer")
    assert not b.errors
