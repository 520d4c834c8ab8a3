"""Which instants and dates the product takes (``funnel.moments``), on every path that takes them.

An event's instant (a touch, a stage entry, a lead's creation, a deal's creation and close)
lies from 1970-01-01 to five minutes ahead of now; a date that may lie ahead (a campaign's, a
contract's) from 1900-01-01 to 2200-01-01. Issue 9 item 6: a lead created 1900-01-01 was
taken by the API (which allowed 1900-2200) and stopped every recompute of its workspace.
"""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from attribution.models import Campaign, Channel, Touch
from attribution.services import touch_record
from funnel.models import StageEvent
from funnel.services import HistoryEntry, lead_stage_move, ledger_import, opportunity_create, opportunity_win
from leads.models import Lead
from leads.services import lead_create
from workspaces.scoping import workspace_scope

from .api_helpers import API, count, errors_of, key_client, send_bulk, statuses
from .factories import AccountFactory, CampaignFactory

RANGE = "from 1970-01-01T00:00:00Z to five minutes ahead of now"


def soon(minutes: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def api(workspace):
    return key_client(workspace)


@pytest.fixture
def loaded(workspace, api):
    """A lead (captured at the epoch), an account and a campaign to refer to."""
    sent = [
        ("accounts", {"external_id": "ACC-1", "name": "Acme", "domain": "acme.com"}),
        ("leads", {"external_id": "L-1", "email": "pat@acme.com", "account_external_id": "ACC-1",
                   "created_at": "1970-01-01T00:00:00Z"}),
        ("campaigns", {"external_id": "CMP-1", "name": "Webinar", "channel": "webinar", "type": "webinar",
                       "start_date": "2026-01-01"}),
    ]  # fmt: skip
    for resource, record in sent:
        assert statuses(send_bulk(api, resource, [record])) == ["created"]
    return api


def test_the_1900_lead_of_the_issue_is_refused_naming_the_field_and_the_range(workspace, api):
    record = {"external_id": "OLD", "email": "old@acme.com", "created_at": "1900-01-01T00:00:00Z"}
    single = api.post(f"{API}/leads/", record, format="json")
    assert single.status_code == 400
    assert single.json() == {
        "created_at": [f"1900-01-01T00:00:00+00:00 is before 1970: created_at takes times {RANGE}."]
    }
    bulk = send_bulk(api, "leads", [record])
    assert errors_of(bulk)["created_at"] == single.json()["created_at"]
    assert count(workspace, Lead) == 0


# (resource, a record whose event field is set last, the field)
EVENT_FIELDS = [
    ("leads", {"external_id": "L-2", "email": "sam@acme.com"}, "created_at"),
    ("touches", {"lead_external_id": "L-1", "channel": "email", "type": "email_click"}, "occurred_at"),
    ("stage-events", {"lead_external_id": "L-1", "stage": "mql"}, "entered_at"),
    ("opportunities", {"external_id": "OPP-1", "name": "Deal", "account_external_id": "ACC-1",
                       "lead_external_id": "L-1", "amount": "10"}, "created_at"),
    ("opportunities", {"external_id": "OPP-1", "name": "Deal", "account_external_id": "ACC-1",
                       "lead_external_id": "L-1", "amount": "10", "stage": "won",
                       "created_at": "2026-01-20T09:00:00Z"}, "closed_at"),
]  # fmt: skip


@pytest.mark.parametrize(("resource", "record", "field"), EVENT_FIELDS, ids=[f"{r}.{f}" for r, _, f in EVENT_FIELDS])
@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1969-12-31T23:59:59Z", "is before 1970"),
        ("1900-01-01", "is before 1970"),
        ("1850-06-01T00:00:00Z", "is before 1970"),  # outside 1900-2200 too: the event rule answers
        (None, "is in the future"),  # now + 6 minutes
        ("2100-01-01T00:00:00Z", "is in the future"),
    ],
    ids=["just-before-1970", "1900", "1850", "six-minutes-ahead", "2100"],
)
def test_an_event_time_outside_the_range_is_refused_naming_the_field_and_the_range(
    workspace, loaded, resource, record, field, value, words
):
    value = value or soon(6)
    before = {model: count(workspace, model) for model in (Lead, Touch, StageEvent)}
    response = send_bulk(loaded, resource, [record | {field: value}])
    assert statuses(response) == ["error"]
    (message,) = errors_of(response)[field]
    assert words in message and f"{field} takes times {RANGE}." in message
    assert {model: count(workspace, model) for model in before} == before
    single = loaded.post(f"{API}/{resource}/", record | {field: value}, format="json")
    assert single.status_code == 400
    assert single.json()[field] == [message]


@pytest.mark.parametrize(("resource", "record", "field"), EVENT_FIELDS, ids=[f"{r}.{f}" for r, _, f in EVENT_FIELDS])
@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", None], ids=["the-epoch", "four-minutes-ahead"])
def test_an_event_time_at_either_end_of_the_range_is_taken(workspace, loaded, resource, record, field, value):
    value = value or soon(4)
    if resource == "opportunities":  # a deal opens for an accepted lead; it closes when it opened
        sal = {"lead_external_id": "L-1", "stage": "sal", "entered_at": "1970-01-01T00:00:00Z"}
        assert statuses(send_bulk(loaded, "stage-events", [sal])) == ["created"]
        record = record | {"created_at": value}
    response = send_bulk(loaded, resource, [record | {field: value}])
    assert statuses(response) == ["created"], response.json()


@pytest.mark.parametrize(
    ("resource", "record", "field", "value"),
    [
        ("campaigns", {"name": "C", "channel": "email", "type": "email"}, "start_date", "1899-12-31"),
        ("campaigns", {"name": "C", "channel": "email", "type": "email", "start_date": "2026-01-01"},
         "end_date", "2200-01-02"),
    ],
)  # fmt: skip
def test_a_plan_date_outside_1900_to_2200_is_refused_naming_the_field_and_the_range(
    workspace, api, resource, record, field, value
):
    record = record | {"external_id": "CMP-X", field: value}
    response = send_bulk(api, resource, [record])
    assert errors_of(response)[field] == [
        f"{value} is outside the years 1900 to 2200: {field} takes dates from 1900-01-01 to 2200-01-01."
    ]
    assert count(workspace, Campaign) == 0


def test_plan_dates_at_either_end_of_their_range_are_taken(workspace, api):
    record = {"external_id": "CMP-LONG", "name": "Forever", "channel": "email", "type": "email",
              "start_date": "1900-01-01", "end_date": "2200-01-01"}  # fmt: skip
    assert statuses(send_bulk(api, "campaigns", [record])) == ["created"]


def test_a_csv_import_refuses_a_row_with_a_1900_created_at_and_takes_the_rest(workspace, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("external_id,email,created_at\nl-1,ada@example.com,1970-01-01\nl-2,old@example.com,1900-01-01\n")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_csv", "leads", str(path), workspace=workspace.slug, stdout=out, stderr=io.StringIO())
    assert f"line 3: created_at: 1900-01-01T00:00:00+00:00 is before 1970: created_at takes times {RANGE}." in (
        out.getvalue()
    )
    with workspace_scope(workspace):
        assert list(Lead.objects.values_list("email", flat=True)) == ["ada@example.com"]


# --- the services the browser, the demo and the imports call ----------------------------------


@pytest.fixture
def lead(scoped):
    return lead_create(workspace=scoped, email="pat@acme.example", entered_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))


def _refusal(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def test_lead_create_refuses_a_creation_before_1970(scoped):
    errors = _refusal(
        lambda: lead_create(
            workspace=scoped, email="old@acme.example", entered_at=dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
        )
    )
    assert errors == {
        "entered_at": ["1900-01-01T00:00:00+00:00 is before 1970: entered_at takes times from 1970-01-01T00:00:00Z on."]
    }
    assert not Lead.objects.exists()


def test_touch_record_refuses_a_touch_before_1970_and_takes_one_ahead_of_now(scoped, lead):
    # (a calendar laid out ahead of today, as the engine's test histories are, is the caller's)
    channel = Channel.objects.get(slug="email")
    old = dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC)
    errors = _refusal(
        lambda: touch_record(workspace=scoped, lead=lead, channel=channel, type="email_click", occurred_at=old)
    )
    assert "is before 1970: occurred_at takes times from 1970-01-01T00:00:00Z on." in errors["occurred_at"][0]
    assert not Touch.objects.exists()
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    touch_record(workspace=scoped, lead=lead, channel=channel, type="email_click", occurred_at=ahead)
    assert Touch.objects.count() == 1


def test_the_stage_and_deal_services_refuse_times_before_1970_and_dates_past_2200(scoped, lead):
    old = dt.datetime(1969, 7, 20, tzinfo=dt.UTC)
    assert "entered_at" in _refusal(
        lambda: lead_stage_move(workspace=scoped, lead=lead, to_stage="mql", entered_at=old)
    )
    account = AccountFactory(workspace=scoped)
    assert "created_at" in _refusal(
        lambda: opportunity_create(
            workspace=scoped, account=account, primary_lead=lead, name="Deal", amount=1, created_at=old
        )
    )
    assert "expected_close_date" in _refusal(
        lambda: opportunity_create(
            workspace=scoped, account=account, primary_lead=lead, name="Deal", amount=1,
            expected_close_date=dt.date(2201, 1, 1),
        )
    )  # fmt: skip
    lead_stage_move(workspace=scoped, lead=lead, to_stage="sal")
    deal = opportunity_create(workspace=scoped, account=account, primary_lead=lead, name="Deal", amount=1)
    assert "closed_at" in _refusal(lambda: opportunity_win(workspace=scoped, opportunity=deal, closed_at=old))


def test_a_history_import_refuses_an_entry_before_1970_alone(scoped, lead):
    results = ledger_import(
        workspace=scoped,
        entries=[
            HistoryEntry(lead.pk, "touched", dt.datetime(1965, 1, 1, tzinfo=dt.UTC)),
            HistoryEntry(lead.pk, "mql", dt.datetime(2026, 1, 6, tzinfo=dt.UTC)),
        ],
    )
    assert results[0][0] == "error" and "is before 1970: entered_at takes times" in results[0][1]
    assert results[1][0] == "created"


def test_the_admin_refuses_a_campaign_date_outside_1900_to_2200(scoped):
    campaign = CampaignFactory(workspace=scoped)
    campaign.start_date = dt.date(1899, 12, 31)
    campaign.end_date = dt.date(2200, 1, 1)
    with pytest.raises(ValidationError) as refused:
        campaign.full_clean(exclude=["workspace", "channel", "owner"], validate_constraints=False)
    assert set(refused.value.message_dict) == {"start_date"}
    assert "1899-12-31 is outside the years 1900 to 2200" in refused.value.message_dict["start_date"][0]
