"""The API docs page in a real browser: a logged-in member tries an operation out, naming the
workspace in the X-Workspace field the page offers."""

import pytest

from workspaces.models import Role

from .test_workspace_pages import log_in


@pytest.fixture
def admin(transactional_db, workspace, member_factory):
    return member_factory(workspace, role=Role.ADMIN, email="admin@acme.test")


def _try_out(page, method: str, path: str, workspace_slug: str | None, body: str | None = None) -> str:
    block = page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])")
    block.locator(".opblock-summary").first.click()
    block.get_by_role("button", name="Try it out").click()
    field = block.locator('tr[data-param-name="X-Workspace"] input')
    if workspace_slug:
        field.fill(workspace_slug)
    if body is not None:
        block.locator("textarea.body-param__text").fill(body)
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    return status.inner_text().strip()


def test_a_member_tries_the_api_out_on_the_docs_page(page, admin, workspace, screenshot):
    log_in(page, "admin@acme.test")
    page.wait_for_url(f"**/w/{workspace.slug}/")
    page.goto("/api/docs/")
    assert _try_out(page, "get", "/api/v1/leads/", workspace.slug) == "200"
    screenshot("api-docs-try-it-out")
    assert (
        _try_out(page, "post", "/api/v1/accounts/", workspace.slug, '{"name": "Initech", "domain": "initech.test"}')
        == "201"
    )
