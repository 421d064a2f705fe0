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


def test_a_marketer_builds_the_scenario_audience_with_the_rule_builder(page, live_server, make_user):
    from segments.models import Audience

    EventFactory(event="Order Completed", properties={"products": [{"category": "yoga"}]})
    make_user("marketer", username="builder")
    log_in(page, live_server, "builder")
    page.goto(f"{live_server.url}/audiences/new/")
    page.get_by_label("Name").fill("Yoga buyers, lapsed")

    def edited(action):
        """Do ``action`` and wait for htmx's re-rendered builder."""
        with page.expect_response(f"{live_server.url}/audiences/builder/"):
            action()
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )

    def commit(selector: str, value: str) -> None:
        page.locator(selector).fill(value)
        edited(lambda: page.locator(selector).press("Tab"))  # a change event: htmx re-renders the builder

    commit("#n-conditions-0-event", "Order Completed")
    expect(page.locator("#builder")).to_contain_text("In words:")
    edited(page.locator("#n-conditions-0--add-filter").click)
    commit("#n-conditions-0-f0-property", "products[].category")
    commit("#n-conditions-0-f0-value", "yoga")
    expect(page.locator("#estimate")).to_have_text("1")
    edited(page.locator("#n-root-add-event").click)
    edited(lambda: page.locator("#n-conditions-1-op").select_option("did_not"))
    commit("#n-conditions-1-event", "Order Completed")
    edited(lambda: page.locator("#n-conditions-1-window").select_option("last_days"))
    commit("#n-conditions-1-days", "60")
    expect(page.locator("#builder")).to_contain_text("did not do Order Completed in the last 60 days")
    expect(page.locator("#estimate")).to_have_text("0")  # the only buyer bought today
    page.get_by_role("button", name="Save and evaluate").click()
    expect(page.get_by_role("heading", name="Yoga buyers, lapsed")).to_be_visible()
    rule = Audience.objects.get(name="Yoga buyers, lapsed").rule
    assert rule["conditions"][0]["filters"] == [
        {"property": "products[].category", "op": "equals", "value": "yoga"}
    ]
    assert rule["conditions"][1] == {
        "type": "event",
        "op": "did_not",
        "event": "Order Completed",
        "window": {"type": "last_days", "days": 60},
    }
