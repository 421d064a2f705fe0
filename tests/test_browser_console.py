"""The console in Debian's Chromium: each role logs in, sees its own navigation, finds Sarah."""

import pytest
from playwright.sync_api import expect

from cxo_site.roles import NAVIGATION
from tests.factories import EventFactory, IdentityFactory, ProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


@pytest.fixture
def sarah():
    profile = ProfileFactory(display_name="Sarah Lind", is_known=True, traits={"loyalty_tier": "Luma Plus"})
    IdentityFactory(profile=profile, namespace="email", value="sarah@luma.example")
    EventFactory(profile=profile, event="Order Completed", channel="web")
    return profile


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()


@pytest.mark.parametrize("role", ["marketer", "agent", "admin"])
def test_each_role_sees_only_its_navigation_and_finds_a_profile(page, live_server, make_user, sarah, role):
    make_user(role, username=f"{role}-user")
    log_in(page, live_server, f"{role}-user")
    nav = page.get_by_role("navigation", name="Main")
    expected = {label for label, _, roles, _ in NAVIGATION if role in roles}
    for label, *_ in NAVIGATION:
        link = nav.get_by_role("link", name=label, exact=False)
        if label in expected:
            expect(link.first).to_be_visible()
        else:
            expect(link).to_have_count(0)

    nav.get_by_role("link", name="Profiles").click()
    page.get_by_label("Search by email").fill("sarah@luma.example")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Sarah Lind").click()
    expect(page.get_by_role("heading", name="Sarah Lind")).to_be_visible()
    expect(page.get_by_text("Luma Plus")).to_be_visible()
    expect(page.get_by_text("Order Completed")).to_be_visible()
