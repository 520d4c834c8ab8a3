"""Importing backdated history into the ledger (``ledger_import``): each entry is checked against
the transition table from the entry before it in time; a resent entry adds nothing; the lead's
current stage and capture time follow."""

import datetime as dt

import pytest

from funnel.models import StageEvent
from funnel.services import HistoryEntry, ledger_import
from leads.models import Lead

from .factories import LeadFactory

T0 = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def ledger(lead) -> list[tuple[str, dt.datetime]]:
    return list(StageEvent.objects.filter(lead=lead).order_by("entered_at", "id").values_list("stage", "entered_at"))


@pytest.fixture
def lead(scoped):
    return LeadFactory(workspace=scoped, email="pat@example.com", stage="lead", entered_at=day(0))


def test_entries_in_any_order_are_placed_in_time_and_the_lead_follows_the_newest(scoped, lead):
    results = ledger_import(
        workspace=scoped,
        entries=[HistoryEntry(lead.pk, "sal", day(5)), HistoryEntry(lead.pk, "mql", day(2))],
    )
    assert [status for status, _, _ in results] == ["created", "created"]
    assert ledger(lead) == [("lead", day(0)), ("mql", day(2)), ("sal", day(5))]
    lead.refresh_from_db()
    assert (lead.stage, lead.stage_entered_at) == ("sal", day(5))


def test_an_entry_resent_adds_nothing(scoped, lead):
    entry = HistoryEntry(lead.pk, "mql", day(2))
    first = ledger_import(workspace=scoped, entries=[entry])
    again = ledger_import(workspace=scoped, entries=[entry, entry])
    assert [s for s, _, _ in again] == ["unchanged", "unchanged"]
    assert again[0][2] == first[0][2]  # the id of the event already there
    assert len(ledger(lead)) == 2


def test_an_entry_the_table_forbids_after_its_predecessor_is_refused_naming_both(scoped, lead):
    (status, message, event_id), ok = ledger_import(
        workspace=scoped, entries=[HistoryEntry(lead.pk, "recycled", day(3)), HistoryEntry(lead.pk, "mql", day(1))]
    )
    assert status == "error" and event_id is None
    assert "from 'mql' to 'recycled'" in message
    assert ok[0] == "created"
    assert ledger(lead) == [("lead", day(0)), ("mql", day(1))]


def test_a_first_stage_other_than_touched_or_lead_is_refused(scoped, lead):
    ((status, message, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "mql", day(-3))])
    assert status == "error" and "no stage (a new person)" in message


def test_a_touch_before_the_capture_is_imported_as_the_first_stage_without_moving_the_lead(scoped, lead):
    ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "touched", day(-10))])
    assert ledger(lead) == [("touched", day(-10)), ("lead", day(0))]
    lead.refresh_from_db()
    assert lead.stage == "lead"


def test_a_capture_imported_for_a_person_only_reached_moves_them_to_lead(scoped):
    person = LeadFactory(workspace=scoped, email="reached@example.com", stage="touched", entered_at=day(10))
    ledger_import(workspace=scoped, entries=[HistoryEntry(person.pk, "lead", day(4))])
    person.refresh_from_db()
    assert (person.stage, person.stage_entered_at, person.captured_at) == ("lead", day(4), day(4))


def test_a_rejection_is_recycled_in_the_same_instant_as_a_live_one_is(scoped, lead):
    ledger_import(
        workspace=scoped,
        entries=[HistoryEntry(lead.pk, "mql", day(1)), HistoryEntry(lead.pk, "rejected", day(2), reason="timing")],
    )
    assert ledger(lead)[-2:] == [("rejected", day(2)), ("recycled", day(2))]
    assert Lead.objects.get(pk=lead.pk).stage == "recycled"


def test_a_deal_stage_names_its_opportunity(scoped, lead):
    ((status, message, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "opportunity", day(3))])
    assert status == "error" and "names its opportunity" in message


def test_a_lead_of_another_workspace_is_not_found(scoped, other_workspace):
    from workspaces.scoping import workspace_scope

    with workspace_scope(other_workspace):
        theirs = LeadFactory(workspace=other_workspace, email="theirs@example.com")
    ((status, message, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(theirs.pk, "mql", day(3))])
    assert (status, message) == ("error", "No such lead in this workspace.")


def test_an_entry_the_table_forbids_before_its_successor_is_refused_naming_both_and_their_times(scoped, lead):
    ledger_import(
        workspace=scoped, entries=[HistoryEntry(lead.pk, "mql", day(5)), HistoryEntry(lead.pk, "sal", day(7))]
    )
    ((status, message, event_id),) = ledger_import(
        workspace=scoped, entries=[HistoryEntry(lead.pk, "disqualified", day(6))]
    )
    assert status == "error" and event_id is None
    assert "'disqualified'" in message and "'sal'" in message
    assert day(6).isoformat() in message and day(7).isoformat() in message
    assert ledger(lead) == [("lead", day(0)), ("mql", day(5)), ("sal", day(7))]


def test_an_entry_the_table_allows_on_both_sides_is_placed_between(scoped, lead):
    ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "sal", day(7))])
    ((status, _, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "mql", day(5))])
    assert status == "created"
    assert ledger(lead) == [("lead", day(0)), ("mql", day(5)), ("sal", day(7))]


def test_a_capture_older_than_the_recorded_one_is_refused_as_the_ledger_is_append_only(scoped, lead):
    ((status, message, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "lead", day(-3))])
    assert status == "error" and "append-only" in message and day(0).isoformat() in message
    assert ledger(lead) == [("lead", day(0))]


def test_a_touch_older_than_a_persons_placeholder_touch_is_still_their_backdated_first_entry(scoped):
    person = LeadFactory(workspace=scoped, email="reached@example.com", stage="touched", entered_at=day(10))
    ((status, _, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(person.pk, "touched", day(4))])
    assert status == "created"
    assert ledger(person) == [("touched", day(4)), ("touched", day(10))]
