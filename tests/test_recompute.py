"""The recompute service, its folding and failure behaviour, the beat task and the command."""

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account, TargetListMember
from accounts.services import target_list_add_account
from attribution.models import Campaign, Channel, Touch
from attribution.services import campaigns_upsert, touch_record, touches_upsert
from funnel import snapshots
from funnel.models import RecomputeState, Snapshot, StageEvent
from funnel.reports import ReportError, attribution_report, campaign_report, funnel_report
from funnel.snapshots import recompute_workspace, workspace_needs_recompute
from funnel.tasks import recompute_due_workspaces
from leads.models import Lead
from workspaces.scoping import workspace_scope

from .engine_data import build_history
from .factories import CampaignFactory, WorkspaceFactory


@pytest.fixture
def history(scoped):
    build_history(scoped, seed=5, n_leads=20)
    return scoped


def test_a_snapshot_records_its_parameters_duration_and_row_counts(history):
    progress = []
    snapshot = recompute_workspace(workspace=history, progress=lambda stage, percent: progress.append(percent))
    assert snapshot.status == Snapshot.Status.DONE
    assert snapshot.parameters | {"as_of": None} == {
        "timezone": history.timezone,
        "lookback_days": 365,
        "half_life_days": 7,
        "as_of": None,
    }
    assert dt.datetime.fromisoformat(snapshot.parameters["as_of"]) <= snapshot.finished_at
    assert snapshot.duration_seconds > 0
    assert snapshot.row_counts["leads"] == Lead.objects.count() == 20
    assert snapshot.row_counts["touches"] == Touch.objects.count() > 0
    assert snapshot.row_counts["events"] == StageEvent.objects.count()
    assert snapshot.row_counts["channels"] == Channel.objects.count()
    assert (snapshot.progress_stage, snapshot.progress_percent) == ("done", 100)
    assert progress == sorted(progress) and progress[-1] == 95


def test_a_request_while_a_run_holds_the_state_is_folded_into_it(history):
    now = timezone.now()
    RecomputeState.objects.update_or_create(
        workspace=history, defaults={"running_since": now, "heartbeat_at": now, "pending": False}
    )
    assert recompute_workspace(workspace=history) is None
    state = RecomputeState.objects.get()
    assert state.pending is True
    assert state.running_since == now
    assert not Snapshot.objects.exists()


def test_a_run_with_a_stale_heartbeat_is_taken_over(history):
    long_ago = timezone.now() - snapshots.STALE_AFTER - dt.timedelta(seconds=5)
    RecomputeState.objects.update_or_create(
        workspace=history, defaults={"running_since": long_ago, "heartbeat_at": long_ago, "pending": True}
    )
    snapshot = recompute_workspace(workspace=history)
    assert snapshot is not None and snapshot.status == Snapshot.Status.DONE
    state = RecomputeState.objects.get()
    assert (state.running_since, state.heartbeat_at, state.pending) == (None, None, False)


def test_a_request_folded_during_a_run_makes_it_run_once_more(history, monkeypatch):
    real_compute = snapshots.compute
    calls = []

    def compute_and_meanwhile_request_again(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            assert recompute_workspace(workspace=history) is None  # folded
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(snapshots, "compute", compute_and_meanwhile_request_again)
    snapshot = recompute_workspace(workspace=history)
    assert len(calls) == 2
    assert snapshot.status == Snapshot.Status.DONE
    assert RecomputeState.objects.get().running_since is None


def test_a_run_killed_midway_leaves_the_previous_snapshot_for_the_reports(history, monkeypatch):
    first = recompute_workspace(workspace=history)
    before = funnel_report(history, by="channel")

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(snapshots, "compute", crash)
    with pytest.raises(RuntimeError, match="worker killed"):
        recompute_workspace(workspace=history)
    failed = Snapshot.objects.exclude(pk=first.pk).get()
    assert failed.status == Snapshot.Status.FAILED
    assert "worker killed" in failed.error
    assert funnel_report(history, by="channel") == before
    assert RecomputeState.objects.get().running_since is None  # the next run is not blocked
    monkeypatch.undo()
    assert recompute_workspace(workspace=history).status == Snapshot.Status.DONE


def test_a_run_left_running_by_a_killed_worker_is_marked_failed_by_the_next(history):
    done = recompute_workspace(workspace=history)
    orphan = Snapshot.objects.create(workspace=history)  # a process died before finishing it
    assert funnel_report(history)["snapshot"] == done.pk
    latest = recompute_workspace(workspace=history)
    # marked failed, then pruned with the other old snapshots: never left "running" for ever
    assert not Snapshot.objects.filter(pk=orphan.pk, status=Snapshot.Status.RUNNING).exists()
    assert not Snapshot.objects.filter(status=Snapshot.Status.RUNNING).exists()
    assert funnel_report(history)["snapshot"] == latest.pk


def _everything(workspace) -> list:
    reports = [funnel_report(workspace, by=by) for by in (None, "channel", "campaign", "segment", "cohort_month")]
    reports += [attribution_report(workspace, model=m, level="revenue") for m in ("linear", "markov", "w_shaped")]
    reports.append(campaign_report(workspace))
    for report in reports:
        report.pop("snapshot"), report.pop("computed_at")
        report.get("headline", {}).pop("retention_period", None)
    return reports


def test_recomputing_twice_gives_identical_reports(history):
    recompute_workspace(workspace=history)
    first = _everything(history)
    recompute_workspace(workspace=history)
    assert _everything(history) == first
    assert Snapshot.objects.filter(status=Snapshot.Status.DONE).count() == 2


def test_needs_recompute_after_new_data_once_the_interval_has_passed(history):
    assert workspace_needs_recompute(history)
    snapshot = recompute_workspace(workspace=history)
    assert not workspace_needs_recompute(history)
    lead = Lead.objects.first()
    touch_record(workspace=history, lead=lead, channel=Channel.objects.get(slug="email"), type="email_click")
    assert not workspace_needs_recompute(history), "the interval has not passed yet"
    later = snapshot.finished_at + dt.timedelta(minutes=history.recompute_interval_minutes, seconds=1)
    assert workspace_needs_recompute(history, now=later)


def test_nothing_is_due_when_the_interval_passed_but_nothing_changed(history):
    snapshot = recompute_workspace(workspace=history)
    later = snapshot.finished_at + dt.timedelta(minutes=history.recompute_interval_minutes, seconds=1)
    assert not workspace_needs_recompute(history, now=later)


# PostgreSQL versions a row with the id of the transaction that wrote it: the writes these tests
# compare must commit one by one, as they do in production, not share the test's transaction.
committing = pytest.mark.django_db(transaction=True)


def _due_after_the_interval(workspace, snapshot) -> bool:
    later = snapshot.finished_at + dt.timedelta(minutes=workspace.recompute_interval_minutes, seconds=1)
    return workspace_needs_recompute(workspace, now=later)


@committing
def test_a_touch_whose_channel_changed_through_the_upsert_makes_the_workspace_due(history):
    lead = Lead.objects.filter(merged_into__isnull=True).first()
    email = Channel.objects.get(slug="email")
    touch_record(workspace=history, lead=lead, channel=email, type="email_click", external_id="T-1")
    snapshot = recompute_workspace(workspace=history)
    assert not _due_after_the_interval(history, snapshot)
    report = touches_upsert(workspace=history, records=[{"external_id": "T-1", "channel": "events"}])
    assert report.results[0]["status"] == "updated"
    assert Touch.objects.get(external_id="T-1").channel.slug == "events"
    assert _due_after_the_interval(history, snapshot)


@committing
def test_a_tier_change_makes_the_workspace_due(history):
    member = TargetListMember.objects.select_related("target_list", "account").order_by("id").first()
    snapshot = recompute_workspace(workspace=history)
    count = TargetListMember.objects.count()
    tier = 1 if member.tier != 1 else 2
    target_list_add_account(workspace=history, target_list=member.target_list, account=member.account, tier=tier)
    assert TargetListMember.objects.count() == count
    assert TargetListMember.objects.get(pk=member.pk).tier == tier
    assert _due_after_the_interval(history, snapshot)


@committing
def test_a_target_list_member_swapped_for_another_makes_the_workspace_due(history):
    member = TargetListMember.objects.select_related("target_list").order_by("id").first()
    listed = TargetListMember.objects.filter(target_list=member.target_list).values_list("account_id", flat=True)
    other = Account.objects.exclude(id__in=listed).first()
    snapshot = recompute_workspace(workspace=history)
    count = TargetListMember.objects.count()
    member.delete()  # there is no removal service yet: the admin deletes members
    target_list_add_account(workspace=history, target_list=member.target_list, account=other, tier=member.tier)
    assert TargetListMember.objects.count() == count
    assert _due_after_the_interval(history, snapshot)


@committing
def test_a_campaign_moved_to_another_channel_makes_the_workspace_due(history):
    campaign = Campaign.objects.exclude(external_id="").order_by("id").first()
    snapshot = recompute_workspace(workspace=history)
    report = campaigns_upsert(workspace=history, records=[{"external_id": campaign.external_id, "channel": "partner"}])
    assert report.results[0]["status"] == "updated"
    assert _due_after_the_interval(history, snapshot)


@committing
def test_a_renamed_channel_makes_the_workspace_due(history):
    snapshot = recompute_workspace(workspace=history)
    Channel.objects.filter(slug="events").update(name="Field events")  # channels are edited in the admin
    assert _due_after_the_interval(history, snapshot)


@committing
def test_a_deleted_campaign_makes_the_workspace_due(history):
    """The marks count no rows (a scan of ten million touches): a deletion shows by its tombstone."""
    from attribution.services import campaign_delete

    campaign = CampaignFactory(workspace=history, external_id="SPARE-1")
    CampaignFactory(workspace=history, external_id="SPARE-2")  # the largest id stays the same
    snapshot = recompute_workspace(workspace=history)
    assert not _due_after_the_interval(history, snapshot)
    campaign_delete(workspace=history, campaign=campaign)
    assert _due_after_the_interval(history, snapshot)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_committed_after_the_marks_by_an_older_transaction_makes_the_workspace_due():
    """PostgreSQL versions rows with the writing transaction's id, not in commit order: a
    transaction that wrote before the marks were taken and commits after them has a version
    below the largest one the marks saw. The marks' horizon still catches it."""
    workspace = WorkspaceFactory(slug="late-writer")
    with workspace_scope(workspace):
        build_history(workspace, seed=3, n_leads=6)
        leads = list(Lead.objects.filter(merged_into__isnull=True).order_by("id")[:2])
        email = Channel.objects.get(slug="email")
        touch_record(workspace=workspace, lead=leads[0], channel=email, type="email_click", external_id="LATE")
    wrote, release, done = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def older_transaction():
        try:
            with workspace_scope(workspace), transaction.atomic():
                touches_upsert(workspace=workspace, records=[{"external_id": "LATE", "channel": "events"}])
                wrote.set()
                assert release.wait(30)
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=older_transaction)
    thread.start()
    try:
        assert wrote.wait(30)
        with workspace_scope(workspace):
            # a younger transaction commits first: the largest version is now above the older one's
            touch_record(workspace=workspace, lead=leads[1], channel=email, type="email_click")
            snapshot = recompute_workspace(workspace=workspace)
            assert not _due_after_the_interval(workspace, snapshot)
            release.set()
            assert done.wait(30) and not errors
            assert Touch.objects.get(external_id="LATE").channel.slug == "events"
            assert _due_after_the_interval(workspace, snapshot)
    finally:
        release.set()
        thread.join(30)


def test_a_request_arriving_as_the_run_releases_takes_the_run_instead_of_waiting_for_it(history, monkeypatch):
    """The run under way releases between the request's failed take and its queueing: the
    request must not be left pending with no run to pick it up, it takes the run itself."""
    now = timezone.now()
    RecomputeState.objects.update_or_create(
        workspace=history, defaults={"running_since": now, "heartbeat_at": now, "pending": False}
    )
    real_update = QuerySet.update
    released = []

    def update_then_let_the_run_release(self, **kwargs):
        changed = real_update(self, **kwargs)
        if self.model is RecomputeState and not changed and not released:
            released.append(True)
            assert snapshots._release_or_continue(history) is False  # the run ends: nothing pending
        return changed

    monkeypatch.setattr(QuerySet, "update", update_then_let_the_run_release)
    snapshot = recompute_workspace(workspace=history)
    assert released
    assert snapshot is not None and snapshot.status == Snapshot.Status.DONE
    state = RecomputeState.objects.get()
    assert (state.running_since, state.pending) == (None, False)


def test_the_beat_task_recomputes_the_due_workspaces_only(history, other_workspace):
    with workspace_scope(other_workspace):
        build_history(other_workspace, seed=9, n_leads=5)
        recompute_workspace(workspace=other_workspace)
        fresh = Snapshot.objects.get()
    due = recompute_due_workspaces.delay().get()
    assert due == [history.pk]
    assert Snapshot.objects.filter(status=Snapshot.Status.DONE).count() == 1  # in the history's scope
    with workspace_scope(other_workspace):
        assert list(Snapshot.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_reports_are_answered_from_the_snapshot_without_reading_raw_tables(history, django_assert_max_num_queries):
    recompute_workspace(workspace=history)
    funnel_report(history)  # warm the per-process array cache
    with django_assert_max_num_queries(3):
        funnel_report(history, by="channel", view="period")
        attribution_report(history, model="markov", level="opportunity")
        attribution_report(history, model="time_decay", level="revenue", by="campaign")


def test_the_recompute_command_prints_progress_and_the_row_counts(history):
    out = io.StringIO()
    call_command("recompute", "--workspace", history.slug, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[  2%] reading leads")
    assert any("attribution" in line for line in lines)
    assert lines[-1].startswith(f"Snapshot {Snapshot.objects.get().pk} done in ")
    assert "leads 20" in lines[-1]


def test_the_recompute_command_says_when_it_was_folded(history):
    now = timezone.now()
    RecomputeState.objects.update_or_create(workspace=history, defaults={"running_since": now, "heartbeat_at": now})
    out = io.StringIO()
    call_command("recompute", "--workspace", history.slug, stdout=out)
    assert "already running" in out.getvalue()


def test_the_snapshot_of_one_workspace_is_not_read_by_another(history, other_workspace):
    recompute_workspace(workspace=history)
    with workspace_scope(other_workspace), pytest.raises(ReportError, match="no computed snapshot yet"):
        funnel_report(other_workspace)
