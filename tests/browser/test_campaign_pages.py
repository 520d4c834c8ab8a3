"""A marketer's campaign journey in a real browser (issue 11): create a campaign, find it in the
list, open it, edit it and close it; screenshots of the list, the page and the form at 1440 and
1024 pixels wide, in English and in Chinese, in var/screenshots/campaigns for a person to look at."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from attribution.models import Campaign
from workspaces.models import Role
from workspaces.scoping import workspace_scope

from ..factories import CampaignFactory

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def team(transactional_db, workspace, member_factory):
    people = {role: member_factory(workspace, role=role, email=f"{role}@acme.test") for role in Role.values}
    with workspace_scope(workspace):
        for i, (start, end) in enumerate(
            [(dt.date(2026, 1, 5), dt.date(2026, 1, 6)), (dt.date(2026, 11, 1), None), (dt.date(2027, 3, 1), None)]
        ):
            CampaignFactory(workspace=workspace, name=f"Existing campaign {i + 1}", start_date=start, end_date=end)
    return people


def log_in(page, email):
    page.goto("/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()


def shoot(page, screenshot, name):
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} runs {overflow}px off the side at {width}px"
        screenshot(f"campaigns/{name}-{width}")


def test_a_marketer_creates_finds_edits_and_closes_a_campaign(page, team, workspace, screenshot):
    log_in(page, "marketer@acme.test")
    page.wait_for_url(f"**/w/{workspace.slug}/")
    page.locator("#nav-marketing > a").click()
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.wait_for_url(f"**/w/{workspace.slug}/campaigns/")
    shoot(page, screenshot, "list-en")

    page.locator("#campaign-new").click()
    page.get_by_label("Name").fill("Shanghai summit")
    page.get_by_label("Channel").select_option(label="Events")
    page.get_by_label("Type").select_option(label="Event")
    page.get_by_label("Start date").fill("2026-11-20")
    page.get_by_label("End date").fill("2026-11-10")  # before the start: refused on the field
    page.get_by_label("Budget (USD)").fill("8000")
    page.get_by_label("Owner").select_option(label="manager@acme.test")
    page.locator("#campaign-save").click()
    assert "The end date cannot be before the start date." in page.locator("#form-errors").inner_text()
    assert page.locator("#id_end_date.is-invalid").count() == 1
    shoot(page, screenshot, "form-error-en")
    page.get_by_label("End date").fill("2026-12-20")
    page.locator("#campaign-save").click()
    page.wait_for_url("**/campaigns/*/")
    assert "Shanghai summit" in page.get_by_role("alert").inner_text()
    with workspace_scope(workspace):
        made = Campaign.objects.get(name="Shanghai summit")
    assert made.owner.email == "manager@acme.test" and made.end_date == dt.date(2026, 12, 20)
    shoot(page, screenshot, "page-en")

    page.locator(".breadcrumb a", has_text="Campaigns").click()
    page.get_by_label("Search").fill("shanghai")
    expect(page.locator("#campaign-table tbody tr")).to_have_count(1)
    assert "q=shanghai" in page.url  # the view can be bookmarked
    page.get_by_role("link", name="Shanghai summit").click()

    page.locator("#campaign-edit").click()
    page.get_by_label("Name").fill("Shanghai summit 2026")
    page.get_by_label("Actual cost (USD)").fill("2500.50")
    shoot(page, screenshot, "form-en")
    page.locator("#campaign-save").click()
    page.wait_for_url(f"**/campaigns/{made.pk}/")
    assert page.locator("h1").inner_text().startswith("Shanghai summit 2026")

    page.locator("#campaign-close").click()
    page.wait_for_url(f"**/campaigns/{made.pk}/")
    assert page.locator("#campaign-status").get_attribute("data-status") == "closed"
    assert page.locator("#campaign-reopen").count() == 1
    with workspace_scope(workspace):
        assert Campaign.objects.get(pk=made.pk).closed_at is not None


def test_the_campaign_pages_in_chinese(page, team, workspace, screenshot):
    user = team[Role.MARKETER].user
    user.language = "zh-hans"
    user.save()
    with workspace_scope(workspace):
        made = Campaign.objects.order_by("pk").first()
    log_in(page, user.email)
    page.wait_for_url(f"**/w/{workspace.slug}/")
    page.goto(f"/w/{workspace.slug}/campaigns/")
    assert page.locator("h1").inner_text() == "市场活动"
    shoot(page, screenshot, "list-zh")
    page.goto(f"/w/{workspace.slug}/campaigns/{made.pk}/")
    assert "触达人数" in page.content()
    shoot(page, screenshot, "page-zh")
    page.goto(f"/w/{workspace.slug}/campaigns/new/")
    shoot(page, screenshot, "form-zh")
