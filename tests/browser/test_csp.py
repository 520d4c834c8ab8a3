"""Every page, walked as a workspace admin in a real browser, runs under the production
Content-Security-Policy without a single violation: no inline script or handler, nothing from
another origin, htmx (the import progress bar polls) and the Swagger UI working."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .test_workspace_pages import log_in
from .walk import ADMIN_EMAIL, every_page, seed_for_walk

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def walked(transactional_db, workspace):
    seed_for_walk(workspace)
    return every_page(workspace)


def test_the_walk_covers_the_pages_people_use(walked):
    names = {name for name, _ in walked}
    assert {"home", "members", "api-keys", "webhooks", "data", "import-job", "api-docs", "login"} <= names
    assert not {"logout", "api-schema", "webhook-remove", "api-key-revoke"} & names


def test_no_page_reports_a_content_security_policy_violation(page, walked):
    console = []
    page.on(
        "console",
        lambda message: console.append(message.text)
        if message.type == "error" and "Content Security Policy" in message.text
        else None,
    )
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, ADMIN_EMAIL)
    page.wait_for_url("**/w/**")
    problems = {}
    for name, path in walked:
        response = page.goto(path)
        assert response is not None and response.status < 400, (name, path, response and response.status)
        assert "script-src 'self'" in (response.header_value("content-security-policy") or ""), name
        page.wait_for_load_state("networkidle")
        if name == "import-job":
            page.wait_for_timeout(1500)  # htmx polls the progress bar every second
            assert page.evaluate("typeof window.htmx") == "object"
        found = []
        if name == "api-docs":
            try:
                page.wait_for_selector(".swagger-ui .info", timeout=15_000)
            except PlaywrightTimeout:
                found.append("Swagger UI did not start")
        found += page.evaluate("window.__cspViolations") + console
        console.clear()
        if found:
            problems[f"{name} {path}"] = found
    assert problems == {}
