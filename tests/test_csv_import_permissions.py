"""A CSV import job runs as the member who started it: a row they may not write (a stage event
into a sales stage, for a marketer) is refused with a message naming the permission, the others
are imported; a file of a resource they may not import at all is refused at upload; the
import_csv command (the server's operator) imports anything (issue 9, item 1). A CSV file is an
import: it needs IMPORT_DATA (a sales rep, who moves leads and deals live over the API, imports
none), and whoever may import it gets the history rules (forward past stages never recorded)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from leads.models import Lead
from sync.models import ImportJob
from sync.services import import_job_create
from workspaces.models import Membership
from workspaces.scoping import workspace_scope

from .factories import LeadFactory

T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
HISTORY = (
    "lead_external_id,stage,entered_at,reason\n"
    f"PAT,mql,{(T0 + dt.timedelta(days=1)).isoformat()},\n"
    f"PAT,sal,{(T0 + dt.timedelta(days=2)).isoformat()},\n"
)


@pytest.fixture
def pat(scoped):
    return LeadFactory(workspace=scoped, email="pat@acme.test", external_id="PAT", entered_at=T0)


@pytest.fixture
def people(scoped, pat):
    """Pat and Quinn, captured on T0 and nothing since, and an account for their deals."""
    from accounts.services import account_create

    account_create(workspace=scoped, name="Acme", domain="acme.example", external_id="ACC-1")
    LeadFactory(workspace=scoped, email="quinn@acme.test", external_id="QUINN", entered_at=T0)


def _day(n: int) -> str:
    return (T0 + dt.timedelta(days=n)).isoformat()


FILES = {
    # a marketing stage, a sales stage, and a rejection straight from lead (a history's skip)
    "stage_events": HISTORY + f"QUINN,rejected,{_day(2)},timing\n",
    # a deal won for a person whose history ends at lead (a history's skip)
    "opportunities": (
        "external_id,name,account_external_id,lead_external_id,amount,created_at,stage,closed_at\n"
        f"OPP-9,Deal,ACC-1,PAT,10,{_day(3)},won,{_day(4)}\n"
    ),
}
# by role and file, written out apart from the permission table: ("done", rows created, the
# permission the refused rows name) or ("refused", the permission the upload's refusal names)
CSV_MATRIX = {
    ("admin", "stage_events"): ("done", 3, None),
    ("manager", "stage_events"): ("done", 3, None),
    ("marketer", "stage_events"): ("done", 1, "work_leads"),
    ("sales_rep", "stage_events"): ("refused", "import_data"),
    ("admin", "opportunities"): ("done", 1, None),
    ("manager", "opportunities"): ("done", 1, None),
    ("marketer", "opportunities"): ("refused", "work_leads"),
    ("sales_rep", "opportunities"): ("refused", "import_data"),
}
FINAL_STAGES = {"stage_events": {"PAT": "sal", "QUINN": "recycled"}, "opportunities": {"PAT": "won", "QUINN": "lead"}}


@pytest.mark.parametrize(("role", "resource"), list(CSV_MATRIX), ids=lambda v: str(v))
def test_each_roles_csv_of_stage_events_and_deals(
    workspace, people, member_factory, django_capture_on_commit_callbacks, role, resource
):
    member = member_factory(workspace, role=role, email=f"{role}@acme.test")
    outcome = CSV_MATRIX[role, resource]
    if outcome[0] == "refused":
        with workspace_scope(workspace), pytest.raises(ValidationError) as refused:
            import_job_create(
                workspace=workspace,
                resource=resource,
                filename="f.csv",
                content=FILES[resource].encode(),
                actor=member.user,
            )
        (message,) = refused.value.message_dict["resource"]
        assert message.startswith(f"{role}@acme.test (") and message.endswith(f"(permission {outcome[1]}).")
        assert not ImportJob.objects.with_scopes_disabled().exists()
        with workspace_scope(workspace):
            assert set(Lead.objects.values_list("stage", flat=True)) == {"lead"}
        return
    _, created, naming = outcome
    job = _run(workspace, member, resource, FILES[resource], django_capture_on_commit_callbacks)
    assert (job.status, job.counts["created"]) == ("done", created), job.errors
    if naming is None:  # the skips are taken: a CSV is a history import
        assert job.errors == []
        with workspace_scope(workspace):
            assert dict(Lead.objects.values_list("external_id", "stage")) == FINAL_STAGES[resource]
    else:
        assert [error["line"] for error in job.errors] == [3, 4]
        assert all(f"(permission {naming})." in error["errors"]["stage"][0] for error in job.errors)


def test_a_sales_rep_may_not_open_the_import_page(client, workspace, member_factory):
    """A rep moves leads and deals live (the API, the lead pages), and imports nothing."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    rep = member_factory(workspace, role="sales_rep", email="rex@acme.test")
    client.force_login(rep.user)
    url = reverse("data", kwargs={"workspace_slug": workspace.slug})
    upload = SimpleUploadedFile("history.csv", HISTORY.encode(), content_type="text/csv")
    assert client.get(url).status_code == 403
    assert client.post(url, {"resource": "stage_events", "file": upload}).status_code == 403
    assert not ImportJob.objects.with_scopes_disabled().exists()


def _run(workspace, member, resource: str, text: str, capture) -> ImportJob:
    with workspace_scope(workspace), capture(execute=True):
        job = import_job_create(
            workspace=workspace, resource=resource, filename="f.csv", content=text.encode(), actor=member.user
        )
    return ImportJob.objects.with_scopes_disabled().get(pk=job.pk)


def test_a_marketers_import_refuses_the_rows_into_sales_stages_naming_the_permission(
    workspace, pat, member_factory, django_capture_on_commit_callbacks
):
    marketer = member_factory(workspace, role="marketer", email="mia@acme.test")
    job = _run(workspace, marketer, "stage_events", HISTORY, django_capture_on_commit_callbacks)
    assert job.status == "done"
    assert job.counts == {"created": 1, "updated": 0, "unchanged": 0, "error": 1}
    assert job.errors == [
        {
            "line": 3,
            "errors": {
                "stage": [
                    "mia@acme.test (Marketer) may not accept, reject or move leads and deals (permission work_leads)."
                ]
            },
        }
    ]
    with workspace_scope(workspace):
        assert Lead.objects.get(pk=pat.pk).stage == "mql"


def test_a_managers_import_takes_every_row(workspace, pat, member_factory, django_capture_on_commit_callbacks):
    manager = member_factory(workspace, role="manager", email="max@acme.test")
    job = _run(workspace, manager, "stage_events", HISTORY, django_capture_on_commit_callbacks)
    assert (job.status, job.counts["created"], job.errors) == ("done", 2, [])
    with workspace_scope(workspace):
        assert Lead.objects.get(pk=pat.pk).stage == "sal"


def test_a_file_of_deals_from_a_marketer_is_refused_at_upload(workspace, member_factory):
    marketer = member_factory(workspace, role="marketer", email="mia@acme.test")
    text = "external_id,name,account_external_id,lead_external_id,amount,stage\nOPP-9,Deal,ACC-1,PAT,10,won\n"
    with workspace_scope(workspace), pytest.raises(ValidationError) as refused:
        import_job_create(
            workspace=workspace, resource="opportunities", filename="f.csv", content=text.encode(), actor=marketer.user
        )
    assert refused.value.message_dict == {
        "resource": ["mia@acme.test (Marketer) may not accept, reject or move leads and deals (permission work_leads)."]
    }
    assert not ImportJob.objects.with_scopes_disabled().exists()


def test_a_job_runs_with_the_role_its_member_has_when_it_runs(
    workspace, pat, member_factory, django_capture_on_commit_callbacks
):
    """Demoted between the upload and the run: the rows are refused, and the job ends done."""
    from sync.services import import_job_run

    manager = member_factory(workspace, role="manager", email="max@acme.test")
    with workspace_scope(workspace), django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            workspace=workspace, resource="stage_events", filename="f.csv", content=HISTORY.encode(), actor=manager.user
        )
    Membership.objects.with_scopes_disabled().filter(pk=manager.pk).update(role="sales_rep")
    with workspace_scope(workspace):
        job = import_job_run(job=job)
    assert (job.status, job.counts["error"]) == ("done", 2)
    assert "(Sales rep) may not import or sync data in bulk (permission import_data)." in str(job.errors[0])


def test_the_import_csv_command_imports_any_row(workspace, pat, tmp_path):
    import io

    from django.core.management import call_command

    path = tmp_path / "history.csv"
    path.write_text(HISTORY)
    call_command("import_csv", "stage_events", str(path), workspace=workspace.slug, stdout=io.StringIO())
    with workspace_scope(workspace):
        assert Lead.objects.get(pk=pat.pk).stage == "sal"
