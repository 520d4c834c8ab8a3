"""The sync pages in a real browser: an admin makes an API key and a webhook, a marketer imports a
CSV with a bad row and reads the report, a manager merges two leads."""

import http.server
import json
import threading

import pytest
import requests

from funnel.services import lead_stage_move
from leads.models import Lead
from sync.models import Tombstone, WebhookDelivery
from workspaces.models import Role
from workspaces.scoping import workspace_scope

from ..factories import LeadFactory
from .test_workspace_pages import log_in


@pytest.fixture
def team(transactional_db, workspace, member_factory):
    return {role: member_factory(workspace, role=role, email=f"{role}@acme.test") for role in Role.values}


def test_an_admin_makes_an_api_key_that_works_until_it_is_revoked(page, team, workspace, live_server, screenshot):
    log_in(page, "admin@acme.test")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Website forms")
    page.get_by_label("Scope").select_option("read")
    page.get_by_role("button", name="Make key").click()
    secret = page.locator("#new-key-secret").inner_text().strip()
    screenshot("api-key-made")
    url = f"{live_server.url}/api/v1/leads/"
    assert requests.get(url, headers={"Authorization": f"Bearer {secret}"}, timeout=10).status_code == 200
    # read only: a write is refused with the reason
    refused = requests.post(url, json={"email": "a@b.com"}, headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert refused.status_code == 403
    assert "read only" in refused.json()["detail"].lower()
    page.reload()  # the secret is shown once
    assert page.locator("#new-key-secret").count() == 0
    row = page.locator("#api-keys tbody tr").filter(has_text="Website forms")
    assert row.get_by_text("never").count() == 0  # it was used just now
    row.get_by_role("button", name="Revoke").click()
    assert "revoked" in page.get_by_role("alert").inner_text()
    assert requests.get(url, headers={"Authorization": f"Bearer {secret}"}, timeout=10).status_code == 401


def test_a_marketer_imports_leads_and_reads_the_refused_rows(page, team, workspace, tmp_path, screenshot):
    csv_file = tmp_path / "attendees.csv"
    csv_file.write_text(
        "external_id,email,first_name,last_name,created_at\n"
        "ev-1,Ada@Example.com,Ada,Lovelace,2026-03-01\n"
        "ev-2,not-an-email,Bob,Bad,2026-03-01\n"
        "ev-3,grace@example.com,Grace,Hopper,03/01/2026\n"
        "ev-4,linus@example.com,Linus,,\n"
    )
    log_in(page, "marketer@acme.test")
    page.get_by_role("link", name="Import & export").click()
    page.get_by_label("Resource").select_option("leads")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("#import-progress[data-status=done]")
    counts = page.locator("#import-counts").inner_text()
    assert "2\ncreated" in counts and "2\nrefused" in counts
    refused = page.locator("#refused-rows tbody tr")
    assert refused.count() == 2
    assert refused.nth(0).inner_text().split("\t")[:2] == ["3", "email"]
    assert "ISO 8601" in refused.nth(1).inner_text() and refused.nth(1).inner_text().startswith("4")
    screenshot("import-report")
    with workspace_scope(workspace):
        assert Lead.objects.get(email="ada@example.com").stage == "lead"
        assert Lead.objects.get(email="linus@example.com").stage == "touched"  # reached, never captured
    # the same file again: nothing new
    page.goto(f"/w/{workspace.slug}/data/")
    page.get_by_label("Resource").select_option("leads")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("#import-progress[data-status=done]")
    assert "2\nunchanged" in page.locator("#import-counts").inner_text()
    with workspace_scope(workspace):
        assert Lead.objects.count() == 2


def test_a_file_with_a_wrong_header_is_refused_at_once(page, team, workspace, tmp_path):
    csv_file = tmp_path / "wrong.csv"
    csv_file.write_text("mail,name\na@b.com,A\n")
    log_in(page, "marketer@acme.test")
    page.goto(f"/w/{workspace.slug}/data/")
    page.get_by_label("Resource").select_option("leads")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()
    message = page.locator(".invalid-feedback").inner_text()
    assert "Unknown columns 'mail', 'name'" in message and "external_id, email" in message


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()


def test_an_admin_adds_a_webhook_and_sees_its_deliveries(page, team, workspace, receiver, screenshot):
    url, received = receiver
    log_in(page, "admin@acme.test")
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Receiver URL").fill("ftp://example.com/x")
    page.get_by_role("button", name="Add webhook").click()
    assert page.locator(".invalid-feedback").count() + page.locator(".text-danger").count() >= 1
    page.get_by_label("Receiver URL").fill(url)
    page.get_by_label("Lead accepted by sales").check()
    page.get_by_role("button", name="Add webhook").click()
    assert page.locator("#new-secret code").inner_text().startswith("whsec_")
    with workspace_scope(workspace):
        lead = LeadFactory(workspace=workspace, email="hot@example.com")
        lead_stage_move(workspace=workspace, lead=lead, to_stage="mql")
        from funnel.services import lead_accept

        lead_accept(workspace=workspace, lead=lead, actor=team[Role.SALES_REP].user)
    assert [body["event"] for _, body in received] == ["lead.accepted"]
    page.reload()
    row = page.locator("#deliveries tbody tr").first
    assert "Lead accepted by sales" in row.inner_text() and "Delivered" in row.inner_text()  # the event by its label
    with workspace_scope(workspace):
        assert WebhookDelivery.objects.get().status == "succeeded"
    screenshot("webhooks")


def test_a_manager_merges_two_records_of_one_person(page, team, workspace, screenshot):
    with workspace_scope(workspace):
        keep = LeadFactory(workspace=workspace, email="pat@acme.example", first_name="Pat", title="")
        other = LeadFactory(workspace=workspace, email="pat.personal@example.com", first_name="Pat", title="CFO")
    log_in(page, "manager@acme.test")
    page.get_by_role("link", name="Merge leads").click()
    page.get_by_label("Keep this lead").fill("pat@acme.example")
    page.get_by_label("Merge this one into it").fill(str(other.pk))
    page.get_by_role("button", name="Compare").click()
    assert "pat.personal@example.com" in page.locator("#merge-compare").inner_text()
    screenshot("merge-compare")
    page.get_by_role("button", name=f"Merge #{other.pk} into #{keep.pk}").click()
    assert "is merged into pat@acme.example" in page.get_by_role("alert").inner_text()
    with workspace_scope(workspace):
        keep.refresh_from_db()
        assert keep.title == "CFO"  # taken from the loser, where the survivor had none
        assert Lead.objects.get(pk=other.pk).merged_into_id == keep.pk
        assert Tombstone.objects.get(record_id=other.pk).kind == "merged"


def test_each_role_sees_only_the_sync_pages_it_may_use(page, team, workspace):
    expected = {
        "marketer@acme.test": {"Import & export": 1, "Merge leads": 1, "API keys": 0, "Webhooks": 0},
        "sales_rep@acme.test": {"Import & export": 0, "Merge leads": 0, "API keys": 0, "Webhooks": 0},
        "admin@acme.test": {"Import & export": 1, "Merge leads": 1, "API keys": 1, "Webhooks": 1},
    }
    for email, links in expected.items():
        log_in(page, email)
        page.wait_for_url(f"**/w/{workspace.slug}/")
        assert {name: page.get_by_role("link", name=name, exact=True).count() for name in links} == links
        page.get_by_role("button", name="Log out").click()
