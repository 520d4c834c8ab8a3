"""Importing backdated history into the ledger (``ledger_import``): each entry is checked against
the transition table from the entry before it in time; a resent entry adds nothing; the lead's
current stage and capture time follow."""

import datetime as dt

import pytest

from funnel.models import StageEvent
from funnel.services import HistoryEntry, ledger_import
from leads.models import Lead
from workspaces.scoping import workspace_scope

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


# --- histories that skip stages (issue 9, item 12), and the reason rule (item 14) -------------


def test_a_forward_move_past_stages_never_recorded_is_taken_and_they_stay_implied(scoped, lead):
    """lead -> rejected: the mql between was never recorded (a person never scored)."""
    ((status, message, _),) = ledger_import(
        workspace=scoped, entries=[HistoryEntry(lead.pk, "rejected", day(3), reason="timing")]
    )
    assert (status, message) == ("created", "")
    assert ledger(lead) == [("lead", day(0)), ("rejected", day(3)), ("recycled", day(3))]
    assert StageEvent.objects.get(lead=lead, stage="rejected").from_stage == "lead"
    lead.refresh_from_db()
    assert lead.stage == "recycled"


def test_a_person_only_reached_may_be_imported_straight_into_mql(scoped):
    person = LeadFactory(workspace=scoped, email="reached@example.com", stage="touched", entered_at=day(0))
    ((status, _, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(person.pk, "mql", day(2))])
    assert status == "created"
    person.refresh_from_db()
    assert (person.stage, person.stage_entered_at) == ("mql", day(2))


@pytest.mark.parametrize(
    ("recorded", "entry", "named"),
    [
        ((("mql", 1), ("sal", 2)), ("mql", 5), "from 'sal' to 'mql'"),  # backward
        ((("disqualified", 1),), ("sal", 5), "from 'disqualified' to 'sal'"),  # out of a terminal exit
        ((("mql", 1), ("sal", 2)), ("lead", 5), "from 'sal' to 'lead'"),
    ],
)
def test_a_history_still_may_not_go_backward_or_leave_a_terminal_exit(scoped, lead, recorded, entry, named):
    ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, stage, day(n)) for stage, n in recorded])
    before = ledger(lead)
    ((status, message, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, entry[0], day(entry[1]))])
    assert status == "error" and named in message
    assert ledger(lead) == before


def test_an_entry_before_a_recorded_one_is_checked_with_the_same_rule(scoped, lead):
    """mql imported before a recorded won-skipping history: lead -> mql -> (sal implied) -> ..."""
    ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "rejected", day(6), reason="no_budget")])
    ((status, _, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "mql", day(3))])
    assert status == "created"
    ((status, message, _),) = ledger_import(workspace=scoped, entries=[HistoryEntry(lead.pk, "disqualified", day(4))])
    assert status == "error" and "'disqualified'" in message and "'rejected'" in message


def test_the_history_rule_goes_only_forward_and_never_out_of_a_terminal_exit():
    """Independently of how HISTORY_SKIPS is built: every stage it adds lies further on."""
    from funnel.stages import EXIT_STAGES, FUNNEL_STAGES, HISTORY_SKIPS, LEAD_TRANSITIONS, lead_history_move_allowed

    assert not lead_history_move_allowed(None, "mql")  # a first entry is still touched or lead
    assert HISTORY_SKIPS["disqualified"] == frozenset()
    assert HISTORY_SKIPS["lead"] >= {"sal", "opportunity", "won", "renewed", "lost", "churned", "rejected"}
    for origin, targets in HISTORY_SKIPS.items():
        for target in targets - LEAD_TRANSITIONS[origin]:
            if origin in FUNNEL_STAGES and target in FUNNEL_STAGES:
                assert FUNNEL_STAGES.index(target) > FUNNEL_STAGES.index(origin), (origin, target)
            assert target in FUNNEL_STAGES or target in EXIT_STAGES
    assert "mql" not in HISTORY_SKIPS["sal"] and "lead" not in HISTORY_SKIPS["mql"]


# --- over the API and CSV ----------------------------------------------------------------------


@pytest.fixture
def api(workspace):
    from .api_helpers import key_client

    return key_client(workspace)


@pytest.fixture
def person(scoped):
    """Pat, captured 01-01 and nothing since (the history another CRM kept ends at 'lead')."""
    from accounts.services import account_create

    account_create(workspace=scoped, name="Acme", domain="acme.example", external_id="ACC-1")
    return LeadFactory(workspace=scoped, email="pat@acme.example", external_id="PAT", stage="lead", entered_at=day(0))


DEAL = {
    "external_id": "OPP-1",
    "name": "Deal",
    "account_external_id": "ACC-1",
    "lead_external_id": "PAT",
    "amount": "1000.00",
    "created_at": day(3).isoformat(),
}


def test_an_opportunity_for_a_person_whose_history_ends_at_lead_is_imported_and_won(workspace, api, person):
    from .api_helpers import send_bulk, statuses

    won = DEAL | {"stage": "won", "closed_at": day(9).isoformat()}
    assert statuses(send_bulk(api, "opportunities", [won])) == ["created"]
    with workspace_scope(workspace):
        assert ledger(person) == [("lead", day(0)), ("opportunity", day(3)), ("won", day(9))]
        assert StageEvent.objects.get(lead=person, stage="opportunity").from_stage == "lead"
        person.refresh_from_db()
        assert person.stage == "won"


def test_an_opportunity_csv_skips_stages_too(workspace, person):
    from sync.csvio import import_rows, read_csv
    from sync.resources import RESOURCES

    text = (
        "external_id,name,account_external_id,lead_external_id,amount,created_at,stage,closed_at,lost_reason\n"
        f"OPP-1,Deal,ACC-1,PAT,1000,{day(3).isoformat()},lost,{day(5).isoformat()},price\n"
    )
    resource = RESOURCES["opportunities"]
    _, rows = read_csv(text.encode(), resource.spec)
    with workspace_scope(workspace):
        summary = import_rows(workspace=workspace, resource=resource, rows=rows)
        assert summary.counts["created"] == 1, summary.errors
        assert ledger(person) == [("lead", day(0)), ("opportunity", day(3)), ("lost", day(5))]


def test_a_stage_event_past_unrecorded_stages_is_taken_over_the_api(workspace, api, person):
    from .api_helpers import API

    record = {"lead_external_id": "PAT", "stage": "rejected", "entered_at": day(2).isoformat(), "reason": "timing"}
    response = api.post(f"{API}/stage-events/", record, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["from_stage"] == "lead"


def test_live_moves_keep_the_table(scoped, person):
    from accounts.models import Account
    from funnel.services import StageTransitionError, opportunity_create

    with pytest.raises(StageTransitionError, match="from 'lead' to 'opportunity'"):
        opportunity_create(workspace=scoped, account=Account.objects.get(), primary_lead=person, name="Live", amount=10)


@pytest.mark.parametrize("stage", ["rejected", "lost"])
def test_a_stage_event_without_its_reason_is_a_400_naming_the_field(workspace, api, person, stage):
    from .api_helpers import API

    record = {"lead_external_id": "PAT", "stage": stage, "entered_at": day(2).isoformat()}
    response = api.post(f"{API}/stage-events/", record, format="json")
    assert response.status_code == 400, response.content
    assert f"An entry into '{stage}' needs a reason" in response.json()["reason"][0]
    with workspace_scope(workspace):
        assert ledger(person) == [("lead", day(0))]


def test_a_csv_rejection_without_a_reason_is_a_refused_row(workspace, person):
    from sync.csvio import import_rows, read_csv
    from sync.resources import RESOURCES

    text = (
        f"lead_external_id,stage,entered_at,reason\nPAT,mql,{day(1).isoformat()},\nPAT,rejected,{day(2).isoformat()},\n"
    )
    resource = RESOURCES["stage_events"]
    _, rows = read_csv(text.encode(), resource.spec)
    with workspace_scope(workspace):
        summary = import_rows(workspace=workspace, resource=resource, rows=rows)
    assert (summary.counts["created"], summary.counts["error"]) == (1, 1)
    assert summary.errors[0]["line"] == 3 and "needs a reason" in summary.errors[0]["errors"]["reason"][0]


# --- the engine counts a skipped stage as reached (docs/design.md) ---------------------------------


def test_the_funnel_counts_the_stages_a_history_skipped_as_reached(workspace, api, person):
    from funnel.reports import funnel_report
    from funnel.snapshots import recompute_workspace

    from .api_helpers import send_bulk, statuses

    won = DEAL | {"stage": "won", "closed_at": day(9).isoformat()}
    assert statuses(send_bulk(api, "opportunities", [won])) == ["created"]
    with workspace_scope(workspace):
        recompute_workspace(workspace=workspace)
        rows = {row["stage"]: row for row in funnel_report(workspace)["rows"]}
    # mql and sal count as reached at the opportunity's time (so entered in the period too) ...
    assert [rows[s]["reached"] for s in ("lead", "mql", "sal", "opportunity", "won", "renewed")] == [1, 1, 1, 1, 1, 0]
    assert rows["sal"]["next_stage_conversion"] == 1.0
    # ... but velocity uses recorded entries only: none into mql, six days from opportunity to won
    assert rows["lead"]["median_days_to_next"] is None
    assert rows["opportunity"]["median_days_to_next"] == 6.0
