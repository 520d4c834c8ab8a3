"""CSV in and out: the import_csv command and the browser's import job go through the bulk
upsert (same matching, same per-row report), and an export imports back unchanged."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Account
from leads.models import Lead
from sync.csvio import CSVFormatError, export_csv, read_csv
from sync.models import ImportJob
from sync.resources import RESOURCES
from sync.services import import_job_create
from workspaces.scoping import workspace_scope

LEADS_CSV = (
    "external_id,email,first_name,last_name,account_external_id,created_at\n"
    "l-1, Ada@Example.com ,Ada,Lovelace,acc-1,2026-03-01\n"
    "l-2,not-an-email,Bob,Bad,acc-1,2026-03-01\n"
    "l-3,grace@example.com,Grace,Hopper,acc-9,2026-03-01\n"
    "l-4,linus@example.com,Linus,Torvalds,,\n"
)


def run_import(workspace, resource: str, text: str, tmp_path) -> tuple[int, str, str]:
    path = tmp_path / f"{resource}.csv"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_csv", resource, str(path), workspace=workspace.slug, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def account(scoped):
    from accounts.services import account_create

    return account_create(workspace=scoped, name="Acme", domain="acme.example", external_id="acc-1")


def test_the_command_imports_the_valid_rows_reports_the_refused_ones_and_exits_1(workspace, account, tmp_path):
    code, out, err = run_import(workspace, "leads", LEADS_CSV, tmp_path)
    assert code == 1
    assert "4 rows: 2 created, 0 updated, 0 unchanged, 2 refused" in out
    assert "line 3: email: 'not-an-email' is not a valid email address." in out
    assert "line 4: account_external_id: No account with the external_id 'acc-9' in this workspace." in out
    assert "4 of 4 rows (100%)" in err  # progress
    with workspace_scope(workspace):
        ada = Lead.objects.get(email="ada@example.com")
        assert (ada.stage, ada.account_id) == ("lead", account.pk)
        assert ada.captured_at.isoformat() == "2026-03-01T00:00:00+00:00"
        assert Lead.objects.get(email="linus@example.com").stage == "touched"


def test_importing_the_same_file_twice_changes_nothing(workspace, account, tmp_path):
    run_import(workspace, "leads", LEADS_CSV, tmp_path)
    with workspace_scope(workspace):
        before = list(Lead.objects.order_by("id").values_list("id", "updated_at", "sync_version"))
    code, out, _ = run_import(workspace, "leads", LEADS_CSV, tmp_path)
    assert "0 created, 0 updated, 2 unchanged, 2 refused" in out
    with workspace_scope(workspace):
        assert list(Lead.objects.order_by("id").values_list("id", "updated_at", "sync_version")) == before


def test_a_clean_file_exits_0(workspace, tmp_path):
    text = "external_id,name,domain\na-1,Acme,https://www.acme.com/\n"
    code, out, _ = run_import(workspace, "accounts", text, tmp_path)
    assert code == 0
    with workspace_scope(workspace):
        assert Account.objects.get().domain == "acme.com"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"mail,name\na@b.com,A\n", "Unknown columns 'mail', 'name'"),
        (b"email,email\na@b.com,c@d.com\n", "The column email appears twice."),
        ("email\nzoë@example.com\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_what_is_wrong(content, message):
    with pytest.raises(CSVFormatError, match=message):
        header, rows = read_csv(content, RESOURCES["leads"].spec)
        list(rows)


def test_a_row_with_more_cells_than_the_header_is_refused_alone(workspace, tmp_path):
    code, out, _ = run_import(workspace, "accounts", "external_id,name\na-1,Acme\na-2,Beta,extra\n", tmp_path)
    assert code == 1
    assert "line 3: non_field_errors: This row has 1 cell more than the header." in out
    with workspace_scope(workspace):
        assert list(Account.objects.values_list("external_id", flat=True)) == ["a-1"]


def test_an_export_imports_back_unchanged(workspace, account, tmp_path):
    run_import(workspace, "leads", LEADS_CSV, tmp_path)
    with workspace_scope(workspace):
        exported = "".join(export_csv(RESOURCES["leads"]))
    assert exported.splitlines()[0].startswith("id,external_id,email,first_name")
    code, out, _ = run_import(workspace, "leads", exported, tmp_path)
    assert code == 0
    assert "2 rows: 0 created, 0 updated, 2 unchanged, 0 refused" in out


def test_the_browser_import_job_records_progress_counts_and_refused_lines(
    workspace, account, django_capture_on_commit_callbacks
):
    with workspace_scope(workspace), django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(workspace=workspace, resource="leads", filename="a.csv", content=LEADS_CSV.encode())
    job = ImportJob.objects.with_scopes_disabled().get(pk=job.pk)
    assert (job.status, job.rows_total, job.rows_done, job.percent) == ("done", 4, 4, 100)
    assert job.counts == {"created": 2, "updated": 0, "unchanged": 0, "error": 2}
    assert [row["line"] for row in job.errors] == [3, 4]
    assert list(job.errors[0]["errors"]) == ["email"]


def test_a_wrong_header_is_refused_when_the_file_is_uploaded(workspace):
    from django.core.exceptions import ValidationError

    with workspace_scope(workspace), pytest.raises(ValidationError, match="Unknown column 'mail'"):
        import_job_create(workspace=workspace, resource="leads", filename="a.csv", content=b"mail\nx@y.z\n")
    assert not ImportJob.objects.with_scopes_disabled().exists()


def test_every_resource_of_a_demo_workspace_exports_and_imports_back_unchanged(db, tmp_path, settings):
    import datetime as dt

    from django.utils import timezone

    from attribution.models import Touch
    from leads.services import lead_erase
    from sync.resources import IMPORTABLE
    from workspaces.models import Workspace

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    call_command(
        "seed_demo", "--workspace", "round-trip", "--leads", "120", "--today", str(yesterday), stdout=io.StringIO()
    )
    workspace = Workspace.objects.get(slug="round-trip")
    with workspace_scope(workspace):
        # a person whose personal data was erased keeps their touches and history in the export
        touched = Touch.objects.filter(lead__erased_at=None).exclude(lead__external_id="").first().lead
        lead_erase(workspace=workspace, lead=touched)
        exports = {name: "".join(export_csv(RESOURCES[name])) for name in IMPORTABLE}
    for name in IMPORTABLE:
        rows = len(exports[name].splitlines()) - 1
        assert rows > 0, name
        code, out, _ = run_import(workspace, name, exports[name], tmp_path)
        assert f"{rows:,} rows: 0 created, 0 updated, {rows:,} unchanged, 0 refused" in out, (name, out[:2000])
        assert code == 0
