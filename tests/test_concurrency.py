"""Two people moving one record at once: exactly one wins (PostgreSQL: real row locks)."""

import threading
import time

import pytest
from django.db import close_old_connections, connection

import funnel.services.moves as stage_services
from funnel.models import StageEvent
from funnel.services import StageTransitionError, lead_accept, lead_stage_move
from leads.models import Lead
from workspaces.scoping import workspace_scope

from .factories import LeadFactory, WorkspaceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(workspace, lead_id: int, action, monkeypatch) -> list:
    """Run ``action`` in two threads that start together; the first to lock the lead holds it
    for a moment (a slow append), so the second certainly arrives while the first is inside."""
    real_append = stage_services._append

    def slow_append(**kwargs):
        time.sleep(0.3)
        return real_append(**kwargs)

    monkeypatch.setattr(stage_services, "_append", slow_append)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def worker():
        try:
            with workspace_scope(workspace):
                lead = Lead.objects.get(pk=lead_id)  # both read 'mql' before either moves it
                barrier.wait()
                action(lead)
            outcomes.append("ok")
        except StageTransitionError as error:
            outcomes.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_concurrent_accepts_of_one_lead_exactly_one_wins(monkeypatch):
    workspace = WorkspaceFactory(slug="race")
    with workspace_scope(workspace):
        lead = LeadFactory(workspace=workspace)
        lead_stage_move(workspace=workspace, lead=lead, to_stage="mql")

    outcomes = _race(
        workspace, lead.pk, lambda lead: lead_accept(workspace=workspace, lead=lead, actor=None), monkeypatch
    )

    assert sorted(map(str, outcomes)).count("ok") == 1
    (error,) = [o for o in outcomes if o != "ok"]
    assert "from 'sal' to 'sal'" in str(error)
    with workspace_scope(workspace):
        assert StageEvent.objects.filter(lead=lead, stage="sal").count() == 1
        assert Lead.objects.get(pk=lead.pk).stage == "sal"


def test_concurrent_accept_and_reject_are_serialized_into_one_unbroken_chain(monkeypatch):
    """Accept then reject is legal (sal -> rejected), so both may succeed, but one after the
    other: each ledger row starts where the previous one ended. Without the row lock both would
    read 'mql' and write two rows from 'mql'."""
    workspace = WorkspaceFactory(slug="race2")
    with workspace_scope(workspace):
        lead = LeadFactory(workspace=workspace)
        lead_stage_move(workspace=workspace, lead=lead, to_stage="mql")

    turns = iter(["accept", "reject"])

    def accept_or_reject(lead):
        if next(turns) == "accept":
            lead_accept(workspace=workspace, lead=lead, actor=None)
        else:
            stage_services.lead_reject(workspace=workspace, lead=lead, actor=None, reason="timing")

    _race(workspace, lead.pk, accept_or_reject, monkeypatch)
    with workspace_scope(workspace):
        chain = list(StageEvent.objects.filter(lead=lead).order_by("id").values_list("from_stage", "stage"))
        assert all(chain[i][0] == chain[i - 1][1] for i in range(1, len(chain))), chain
        assert Lead.objects.get(pk=lead.pk).stage == chain[-1][1]
