"""An admin changes a scoring rule in a real browser: reviews it, reads how many leads it would
qualify, saves it and watches the rescore finish. A marketer reads the same page without inputs
to change. Screenshots at 1440 and 1024 pixels, in English and in Chinese, land in
var/screenshots/scoring/ for a person to look at."""

import datetime as dt

import pytest
from django.utils import timezone

from attribution.models import Channel
from attribution.services import touch_record
from leads.models import Lead
from workspaces.models import Role
from workspaces.scoping import workspace_scope

from ..factories import LeadFactory
from .conftest import SCREENSHOTS
from .session import log_in, open_page, overflow

PASSWORD = "pw-for-tests-1"
SHOTS = SCREENSHOTS / "scoring"


@pytest.fixture
def team(transactional_db, workspace, member_factory):
    people = {role: member_factory(workspace, role=role, email=f"{role}@acme.test") for role in Role.values}
    with workspace_scope(workspace):
        channel = Channel.objects.get(slug="events")
        for i in range(3):
            lead = LeadFactory(workspace=workspace, email=f"warm{i}@example.com", first_name=f"Warm{i}")
            touch_record(
                workspace=workspace,
                lead=lead,
                channel=channel,
                type="webinar_attended",
                occurred_at=timezone.now() - dt.timedelta(days=2),
            )
        LeadFactory(workspace=workspace, email="quiet@example.com")
    return people


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_admin_changes_a_rule_sees_the_preview_saves_and_sees_the_rescore_finish(
    browser, live_server, team, workspace
):
    context, page = open_page(browser, live_server, width=1440)
    try:
        log_in(page, "admin@acme.test", PASSWORD)
        page.locator("nav").get_by_role("link", name="Scoring").click()
        page.wait_for_url("**/scoring/")
        assert page.locator("#id_touch__webinar_attended__points").input_value() == "15"
        _shot(page, "en-1440-rules")
        page.locator("#id_touch__webinar_attended__points").fill("50")
        page.locator("#scoring-review").click()
        preview = page.locator("#scoring-preview")
        preview.wait_for()
        assert "3 leads would qualify now" in preview.inner_text()
        _shot(page, "en-1440-preview")
        assert overflow(page) == 0
        preview.get_by_role("button", name="Save and rescore").click()
        page.locator('#rescore-progress[data-status="done"]').wait_for()
        assert "3 leads became MQLs" in page.locator("#rescore-counts").inner_text()
        assert "Scoring rules saved" in page.locator(".alert-success").inner_text()
        _shot(page, "en-1440-saved")
        page.set_viewport_size({"width": 1024, "height": 900})
        _shot(page, "en-1024-saved")
        assert overflow(page) == 0
    finally:
        context.close()
    with workspace_scope(workspace):
        assert sorted(Lead.objects.filter(stage="mql").values_list("email", flat=True)) == [
            f"warm{i}@example.com" for i in range(3)
        ]


@pytest.mark.parametrize("width", [1440, 1024])
def test_a_marketer_reads_the_rules_in_chinese_without_inputs_to_change(browser, live_server, team, width):
    context, page = open_page(browser, live_server, width=width, locale="zh-CN")
    try:
        log_in(page, "marketer@acme.test", PASSWORD)
        page.goto("/w/acme/scoring/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.locator("#id_touch__meeting__points").is_disabled()
        assert page.locator("#scoring-review").count() == 0
        _shot(page, f"zh-{width}-rules")
        assert overflow(page) == 0
    finally:
        context.close()
