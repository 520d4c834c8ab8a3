"""Odd input that once answered 500 (issue 9, item 8): each is a clear 4xx, or a refused row of
an import, and nothing is half-written."""

import base64
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import Account
from leads.models import Lead
from sync.models import ImportJob
from sync.services import import_job_create
from workspaces.scoping import workspace_scope

from .api_helpers import API, count, errors_of, key_client, seed_workspace, send_bulk, statuses

HUGE = "7" * 5000  # over Python's 4,300 digits of int(): int() of it raises ValueError
NESTED = "[" * 1000 + "]" * 1000


@pytest.fixture
def api(workspace):
    return key_client(workspace)


@pytest.fixture
def admin_client(client, member_factory, workspace):
    client.force_login(member_factory(workspace, role="admin").user)
    return client


# --- JSON nested past the parser's recursion limit ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "leads/"),
        ("post", "leads/bulk/"),
        ("post", "leads/merge/"),
        ("patch", "leads/{id}/"),
        ("post", "stage-events/bulk/"),
    ],
)
@pytest.mark.parametrize("body", [NESTED, '{"records": ' + NESTED + "}"], ids=["array", "in-records"])
def test_json_nested_a_thousand_deep_is_400(workspace, api, method, path, body):
    lead_id = seed_workspace(workspace).ids["leads"]
    response = getattr(api, method)(
        f"{API}/{path.format(id=lead_id)}", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 400, response.content[:300]
    assert "nested" in response.json()["detail"]


def test_a_cursor_of_json_nested_a_thousand_deep_is_400_naming_cursor(api):
    cursor = base64.urlsafe_b64encode(NESTED.encode()).decode()
    response = api.get(f"{API}/leads/", {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_json_nested_deeper_than_any_record_needs_is_400(api):
    body = {"records": [{"email": "pat@acme.com", "first_name": json.loads("[" * 60 + "]" * 60)}]}
    response = api.post(f"{API}/leads/bulk/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_json_nested_as_records_need_is_taken(workspace, api):
    response = send_bulk(api, "leads", [{"email": "pat@acme.com", "first_name": [[["x"]]]}])
    assert "first_name" in errors_of(response)


# --- integers of more digits than int() takes ---------------------------------------------------


def test_a_huge_integer_in_a_field_is_an_error_of_that_field(workspace, api):
    response = send_bulk(
        api,
        "accounts",
        [{"external_id": "A-1", "name": "Acme", "employees": HUGE}, {"external_id": "A-2", "name": "B"}],
    )
    assert statuses(response) == ["error", "created"]
    assert errors_of(response)["employees"] == ["Too large."]
    assert count(workspace, Account) == 1


def test_a_huge_integer_as_a_json_number_is_400(api):
    body = '{"records": [{"external_id": "A-1", "name": "Acme", "employees": ' + HUGE + "}]}"
    response = api.post(f"{API}/accounts/bulk/", data=body, content_type="application/json")
    assert response.status_code == 400


def test_a_huge_page_size_is_400_naming_it(api):
    response = api.get(f"{API}/leads/", {"page_size": HUGE})
    assert response.status_code == 400
    assert "page_size" in response.json()
    assert len(response.content) < 500  # the message quotes a glimpse of the value, not all of it


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_huge_id_in_an_api_url_is_404(api, method):
    response = getattr(api, method)(f"{API}/leads/{HUGE}/", {}, format="json")
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("name", ["member-change", "webhook-remove", "import-job", "import-job-progress"])
def test_a_huge_id_in_a_page_url_is_404(admin_client, workspace, name):
    kwarg = {"member-change": "membership_id", "webhook-remove": "webhook_id"}.get(name, "job_id")
    url = reverse(name, kwargs={"workspace_slug": workspace.slug, kwarg: 1}).replace("/1/", f"/{HUGE}/")
    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url).status_code == 404


@pytest.mark.parametrize(
    "survivor", [HUGE, "#" + HUGE, "\u00b2", "\u0663"], ids=["huge", "hash-huge", "sup2", "arabic"]
)
def test_an_odd_survivor_on_the_merge_page_is_a_form_error(admin_client, workspace, survivor):
    url = reverse("lead-merge", kwargs={"workspace_slug": workspace.slug})
    response = admin_client.get(url, {"survivor": survivor, "loser": "someone@acme.test"})
    assert response.status_code == 200
    assert response.context["form"].errors["survivor"]


# --- lone surrogates: not text UTF-8 (or PostgreSQL) can hold ---------------------------------


@pytest.mark.parametrize("key", ["", "k-surrogate"], ids=["plain", "idempotent"])
def test_a_lone_surrogate_in_a_text_field_is_an_error_naming_the_field(workspace, api, key):
    body = '{"records": [{"email": "pat@acme.com", "first_name": "Pa\\ud800t"}, {"email": "ok@acme.com"}]}'
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api.post(f"{API}/leads/bulk/", data=body, content_type="application/json", **headers)
    assert statuses(response) == ["error", "created"]
    assert "surrogate" in errors_of(response)["first_name"][0]
    assert count(workspace, Lead) == 1
    single = api.post(
        f"{API}/leads/", data='{"email": "x@acme.com", "seniority": "\\udfff"}', content_type="application/json"
    )
    assert single.status_code == 400
    assert "seniority" in single.json()


def test_a_lone_surrogate_in_a_field_name_is_an_error_not_a_crash(api):
    body = '{"records": [{"email": "pat@acme.com", "na\\ud800me": "x"}], "mo\\ud800de": 1}'
    response = api.post(f"{API}/leads/bulk/", data=body, content_type="application/json")
    assert response.status_code == 400
    body = '{"records": [{"email": "pat@acme.com", "na\\ud800me": "x"}]}'
    response = api.post(f"{API}/leads/bulk/", data=body, content_type="application/json")
    assert statuses(response) == ["error"]


# --- CSV ------------------------------------------------------------------------------------------


def _import(workspace, resource: str, content: bytes, tmp_path) -> tuple[int, str]:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    out = io.StringIO()
    try:
        call_command("import_csv", resource, str(path), workspace=workspace.slug, stdout=out, stderr=io.StringIO())
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


LONG_CELL = b"name,external_id\nAcme,A-1\n" + b'"' + b"x" * 140_000 + b'",A-2\n'


def test_a_csv_cell_over_the_reader_limit_is_refused_at_upload_naming_its_line(admin_client, workspace):
    url = reverse("data", kwargs={"workspace_slug": workspace.slug})
    upload = io.BytesIO(LONG_CELL)
    upload.name = "accounts.csv"
    response = admin_client.post(url, {"resource": "accounts", "file": upload})
    assert response.status_code == 200
    (message,) = response.context["form"].errors["file"]
    assert "Line 3" in message and "131,072" in message
    assert not ImportJob.objects.with_scopes_disabled().exists()
    assert count(workspace, Account) == 0


def test_a_csv_cell_over_the_reader_limit_is_refused_by_the_command(workspace, tmp_path):
    with pytest.raises(CommandError, match="Line 3"):
        _import(workspace, "accounts", LONG_CELL, tmp_path)
    assert count(workspace, Account) == 0


def test_a_huge_integer_in_a_csv_refuses_that_row_only(workspace, django_capture_on_commit_callbacks):
    content = f"external_id,name,employees\nA-1,Acme,{HUGE}\nA-2,Globex,12\n".encode()
    with workspace_scope(workspace), django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(workspace=workspace, resource="accounts", filename="a.csv", content=content)
    job = ImportJob.objects.with_scopes_disabled().get(pk=job.pk)
    assert job.status == "done", job.error
    assert job.counts == {"created": 1, "updated": 0, "unchanged": 0, "error": 1}
    assert job.errors == [{"line": 2, "errors": {"employees": ["Too large."]}}]
