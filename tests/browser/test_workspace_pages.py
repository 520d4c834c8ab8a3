"""A newcomer's first minutes, in a real browser: log in, land on the workspace, read the stage
counts; an admin fixes a setting after a clear error; an outsider is turned away."""

import pytest

from funnel.services import lead_accept, lead_stage_move
from workspaces.models import Role
from workspaces.scoping import workspace_scope

from ..factories import LeadFactory

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def team(transactional_db, workspace, member_factory):
    people = {role: member_factory(workspace, role=role, email=f"{role}@acme.test") for role in Role.values}
    with workspace_scope(workspace):
        leads = LeadFactory.create_batch(4, workspace=workspace)
        lead_stage_move(workspace=workspace, lead=leads[0], to_stage="mql")
        lead_stage_move(workspace=workspace, lead=leads[1], to_stage="mql")
        lead_accept(workspace=workspace, lead=leads[1], actor=people[Role.SALES_REP].user)
    return people


def log_in(page, email):
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_member_logs_in_and_sees_the_stage_counts(page, team, workspace, screenshot):
    log_in(page, "Marketer@Acme.test")
    page.wait_for_url(f"**/w/{workspace.slug}/")
    counts = {
        card.get_attribute("data-stage"): card.locator(".count").inner_text()
        for card in page.locator("#stage-counts .stage-card").all()
    }
    assert counts["lead"] == "2"
    assert counts["mql"] == "1"
    assert counts["sal"] == "1"
    assert page.locator("#activity tbody tr").count() >= 3
    # A marketer has no admin pages in the menu.
    assert page.get_by_role("link", name="Settings").count() == 0
    screenshot("home-marketer")


def test_a_wrong_password_is_named_on_the_login_page(page, team, screenshot):
    log_in(page, "admin@acme.test")  # right password first: log out again to see the form
    page.get_by_role("button", name="Log out").click()
    page.goto("/login/")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Please enter a correct email and password")
    screenshot("login-error")


def test_an_admin_changes_a_setting_after_a_clear_error(page, team, workspace, screenshot):
    log_in(page, "admin@acme.test")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Sales SLA").fill("0")
    page.get_by_role("button", name="Save settings").click()
    assert "greater than or equal to 1" in page.locator(".invalid-feedback").first.inner_text()
    screenshot("settings-error")
    page.get_by_label("Sales SLA").fill("36")
    page.get_by_role("button", name="Save settings").click()
    assert "Settings saved" in page.get_by_role("alert").inner_text()
    workspace.refresh_from_db()
    assert workspace.sla_hours == 36


def test_an_outsider_gets_not_found(page, team, workspace, other_workspace, member_factory):
    member_factory(other_workspace, role=Role.ADMIN, email="boss@globex.test")
    log_in(page, "boss@globex.test")
    page.wait_for_url(f"**/w/{other_workspace.slug}/")
    response = page.goto(f"/w/{workspace.slug}/")
    assert response.status == 404
