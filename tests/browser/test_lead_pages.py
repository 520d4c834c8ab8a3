"""A marketer at work on leads, in a real browser: searches while typing (the table changes and
the URL follows), filters, pages on, opens a lead, logs a touch that makes it an MQL with an
owner. Screenshots of the list, the lead page and the touch form at 1440 and 1024 pixels, in
English and in Chinese, land in var/screenshots/leads/ for a person to look at."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import TargetList
from leads.models import Lead
from workspaces.models import Role
from workspaces.scoping import workspace_scope

from ..factories import AccountFactory, CampaignFactory, LeadFactory
from .conftest import SCREENSHOTS
from .session import log_in, open_page, overflow

PASSWORD = "pw-for-tests-1"
SHOTS = SCREENSHOTS / "leads"


@pytest.fixture
def team(transactional_db, workspace, member_factory):
    people = {role: member_factory(workspace, role=role, email=f"{role}@acme.test") for role in Role.values}
    workspace.mql_threshold = 1
    workspace.save(update_fields=["mql_threshold"])
    with workspace_scope(workspace):
        big = AccountFactory(
            workspace=workspace, name="Initech Corporation", domain="initech.example", segment="enterprise"
        )
        small = AccountFactory(workspace=workspace, name="Hooli", domain="hooli.example", segment="smb")
        CampaignFactory(workspace=workspace, name="Spring launch webinar")
        TargetList.objects.create(workspace=workspace, name="Enterprise ABM")
        names = ["Ann Lee", "Bo Annis", "Cy Zhu", "Di Lee", "王 伟", "Eve Stone", "Finn Ray", "Gus Park"]
        for i, name in enumerate(names * 8):
            first, last = name.split(" ")
            lead = LeadFactory(
                workspace=workspace,
                email=f"{first.lower()}.{i}@{'initech' if i % 2 else 'hooli'}.example".replace("王", "wang"),
                first_name=first,
                last_name=last,
                title="VP Marketing" if i % 3 == 0 else "Analyst",
                account=big if i % 2 else small,
            )
            Lead.objects.filter(pk=lead.pk).update(score=(i * 7) % 40, created_at=timezone.now() - dt.timedelta(days=i))
    return people


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_marketer_searches_filters_pages_and_logs_a_touch_that_makes_an_mql(browser, live_server, team, workspace):
    context, page = open_page(browser, live_server, width=1440)
    try:
        log_in(page, "marketer@acme.test", PASSWORD)
        page.goto(f"/w/{workspace.slug}/leads/")
        assert page.locator(".list-count").first.inner_text() == "64 leads"
        assert page.locator("#lead-table tbody tr").count() == 50
        # search while typing: the table changes without a page load and the URL follows
        page.locator("#list-results-q").press_sequentially("lee", delay=40)
        page.wait_for_url(re.compile(r".*q=lee.*"))
        page.wait_for_function("document.querySelectorAll('#lead-table tbody tr').length === 16")
        assert page.locator(".list-count").first.inner_text() == "16 leads"
        page.locator("#id_segment").select_option("enterprise")
        page.wait_for_url(re.compile(r".*segment=enterprise.*"))
        page.wait_for_function("document.querySelector('.list-count').innerText === '8 leads'")
        _shot(page, "en-1440-list-filtered")
        # clear, sort by score, page on and back
        page.goto(f"/w/{workspace.slug}/leads/?sort=score")
        first_page = page.locator("#lead-table tbody tr td:nth-child(2) a").all_inner_texts()
        page.get_by_role("link", name="Next").first.click()
        page.wait_for_url(re.compile(r".*after=.*"))
        page.wait_for_function("document.querySelectorAll('#lead-table tbody tr').length === 14")
        page.get_by_role("link", name="Previous").first.click()
        page.wait_for_url(re.compile(r".*before=.*"))
        page.wait_for_function("document.querySelectorAll('#lead-table tbody tr').length === 50")
        assert page.locator("#lead-table tbody tr td:nth-child(2) a").all_inner_texts() == first_page
        # select two rows: the bulk button wakes up
        button = page.get_by_role("button", name="Add their accounts to the target list")
        assert button.is_disabled()
        page.locator("#lead-table tbody input[name=lead]").nth(0).check()
        page.locator("#lead-table tbody input[name=lead]").nth(1).check()
        assert page.locator("[data-selected-count]").inner_text() == "2" and button.is_enabled()
        _shot(page, "en-1440-list")
        # open a lead and log a touch
        page.goto(f"/w/{workspace.slug}/leads/?q=ann.0")
        page.locator("#lead-table tbody tr td:nth-child(2) a").first.click()
        page.wait_for_url(re.compile(r".*/leads/\d+/$"))
        assert page.locator("#lead-stage").inner_text() == "Lead"
        _shot(page, "en-1440-lead-before")
        page.get_by_role("link", name="Log a touch").click()
        page.locator("#id_type").select_option("webinar_attended")
        page.locator("#id_campaign").select_option(label="Spring launch webinar")
        _shot(page, "en-1440-touch-form")
        page.get_by_role("button", name="Log the touch").click()
        page.wait_for_url(re.compile(r".*/leads/\d+/$"))
        assert "The lead is now in stage MQL" in page.get_by_role("alert").inner_text()
        assert page.locator("#lead-stage").inner_text() == "MQL"
        assert page.locator("#lead-owner").inner_text() == "sales_rep@acme.test"
        assert page.locator("#lead-timeline li").count() >= 3
        _shot(page, "en-1440-lead-mql")
        assert overflow(page) == 0
        for width in (1024,):
            page.set_viewport_size({"width": width, "height": 900})
            page.reload()
            _shot(page, f"en-{width}-lead-mql")
            assert overflow(page) == 0
            page.goto(f"/w/{workspace.slug}/leads/")
            _shot(page, f"en-{width}-list")
            assert overflow(page) == 0
    finally:
        context.close()


@pytest.mark.parametrize("width", [1440, 1024])
def test_the_lead_pages_in_chinese(browser, live_server, team, workspace, width):
    context, page = open_page(browser, live_server, width=width, locale="zh-CN")
    try:
        log_in(page, "marketer@acme.test", PASSWORD)
        page.goto(f"/w/{workspace.slug}/leads/?segment=enterprise")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        _shot(page, f"zh-{width}-list")
        assert overflow(page) == 0
        page.locator("#lead-table tbody tr td:nth-child(2) a").first.click()
        page.wait_for_url(re.compile(r".*/leads/\d+/$"))
        _shot(page, f"zh-{width}-lead")
        assert overflow(page) == 0
        page.goto(page.url + "touch/")
        _shot(page, f"zh-{width}-touch-form")
        page.goto(f"/w/{workspace.slug}/leads/?q=nobody")
        _shot(page, f"zh-{width}-list-empty")
    finally:
        context.close()
