"""The bulk upsert of every resource over the API: created / updated / unchanged, resending
changes nothing, matching on external_id and the natural keys, conflicts refused naming both
records, and history written to the ledger through the stage services."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from attribution.models import Campaign, Touch
from funnel.models import Contract, Opportunity, StageEvent
from leads.interchange import LEADS
from leads.models import Lead
from workspaces.scoping import workspace_scope

from .api_helpers import API, count, errors_of, key_client, send_bulk, statuses

MODELS = {
    "accounts": Account,
    "leads": Lead,
    "campaigns": Campaign,
    "touches": Touch,
    "opportunities": Opportunity,
    "stage-events": StageEvent,
}


@pytest.fixture
def api(workspace):
    return key_client(workspace)


def ledger(workspace, lead_id: int) -> list[tuple[str, dt.datetime]]:
    with workspace_scope(workspace):
        return list(
            StageEvent.objects.filter(lead_id=lead_id).order_by("entered_at", "id").values_list("stage", "entered_at")
        )


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- one batch of every resource, in dependency order ---------------------------------------

BATCHES = {
    "accounts": [
        {"external_id": "ACC-1", "name": "Acme", "domain": "acme.com", "employees": 120, "segment": "mid_market"},
        {"external_id": "ACC-2", "name": "Initech", "domain": "initech.com", "country": "de"},
    ],
    "leads": [
        {"external_id": "L-1", "email": "pat@acme.com", "first_name": "Pat", "account_external_id": "ACC-1",
         "created_at": "2026-01-10T09:00:00Z"},
        {"external_id": "L-2", "email": "sam@initech.com", "seniority": "director", "created_at": "2026-01-11"},
        {"email": "kim@acme.com", "last_name": "Kim"},
    ],
    "campaigns": [
        {"external_id": "CMP-1", "name": "Spring webinar", "channel": "webinar", "type": "webinar",
         "start_date": "2026-01-01", "end_date": "2026-01-31", "budget": "5000", "cost": 4200.5},
    ],
    "touches": [
        {"external_id": "T-1", "lead_external_id": "L-1", "campaign_external_id": "CMP-1", "type": "webinar_attended",
         "occurred_at": "2026-01-15T10:00:00Z"},
        {"lead_email": "sam@initech.com", "channel": "paid_search", "type": "ad_click",
         "occurred_at": "2026-01-12T08:00:00Z"},
    ],
    "stage-events": [
        {"lead_external_id": "L-1", "stage": "mql", "entered_at": "2026-01-16T09:00:00Z"},
        {"lead_external_id": "L-1", "stage": "sal", "entered_at": "2026-01-17T09:00:00Z"},
    ],
    "opportunities": [
        {"external_id": "OPP-1", "name": "Acme deal", "account_external_id": "ACC-1", "lead_external_id": "L-1",
         "amount": "25000", "created_at": "2026-01-20T09:00:00Z", "stage": "proposal"},
    ],
}  # fmt: skip
ORDER = ["accounts", "leads", "campaigns", "touches", "stage-events", "opportunities"]


def load_all(api, upto: str | None = None) -> dict[str, list[str]]:
    sent = {}
    for resource in ORDER:
        sent[resource] = statuses(send_bulk(api, resource, BATCHES[resource]))
        if resource == upto:
            break
    return sent


def test_the_first_load_of_every_resource_creates_every_record(api):
    sent = load_all(api)
    assert sent == {resource: ["created"] * len(BATCHES[resource]) for resource in ORDER}


@pytest.mark.parametrize("resource", ORDER)
def test_resending_a_batch_changes_nothing(workspace, api, resource):
    load_all(api)
    with workspace_scope(workspace):
        rows = {name: list(model.objects.order_by("id").values()) for name, model in MODELS.items()}
        contracts = Contract.objects.count()
    response = send_bulk(api, resource, BATCHES[resource])
    assert statuses(response) == ["unchanged"] * len(BATCHES[resource])
    assert response.json()["counts"] == {"created": 0, "updated": 0, "unchanged": len(BATCHES[resource]), "error": 0}
    with workspace_scope(workspace):
        # not one row of any table changed: not even updated_at or the sync version
        assert {name: list(model.objects.order_by("id").values()) for name, model in MODELS.items()} == rows
        assert Contract.objects.count() == contracts


def test_a_changed_record_is_updated_and_the_others_are_unchanged(workspace, api):
    load_all(api, upto="accounts")
    response = send_bulk(
        api,
        "accounts",
        [
            {"external_id": "ACC-1", "name": "Acme", "domain": "acme.com", "employees": 150},
            {"external_id": "ACC-2", "name": "Initech"},
            {"external_id": "ACC-3", "name": "Globex", "domain": "globex.com"},
        ],
    )
    assert statuses(response) == ["updated", "unchanged", "created"]
    assert response.json()["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "error": 0}
    with workspace_scope(workspace):
        assert Account.objects.get(external_id="ACC-1").employee_count == 150
        assert Account.objects.get(external_id="ACC-2").country == "DE"  # left as it was: not sent
        assert Account.objects.count() == 3


# --- leads ------------------------------------------------------------------------------------


def test_a_lead_is_matched_on_external_id_then_on_normalized_email(workspace, api):
    (created,) = send_bulk(api, "leads", [{"external_id": "L-1", "email": "pat@acme.com"}]).json()["results"]
    by_email = send_bulk(api, "leads", [{"email": "  PAT@Acme.COM ", "first_name": "Pat"}]).json()["results"][0]
    by_external = send_bulk(api, "leads", [{"external_id": "L-1", "last_name": "Doe"}]).json()["results"][0]
    assert (by_email["status"], by_email["id"]) == ("updated", created["id"])
    assert (by_external["status"], by_external["id"]) == ("updated", created["id"])
    with workspace_scope(workspace):
        lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name, lead.external_id) == ("pat@acme.com", "Pat", "Doe", "L-1")


def test_a_lead_whose_external_id_and_email_name_two_leads_is_refused_naming_both(workspace, api):
    first, second = send_bulk(
        api, "leads", [{"external_id": "A", "email": "a@acme.com"}, {"external_id": "B", "email": "b@acme.com"}]
    ).json()["results"]
    with workspace_scope(workspace):
        before = list(Lead.objects.order_by("id").values())
    response = send_bulk(
        api,
        "leads",
        [{"external_id": "A", "email": "b@acme.com", "first_name": "Merged?"}, {"email": "c@acme.com"}],
    )
    assert statuses(response) == ["error", "created"]
    (message,) = errors_of(response)["email"]
    assert f"#{first['id']}" in message and f"#{second['id']}" in message
    assert "nothing was merged" in message
    with workspace_scope(workspace):
        assert list(Lead.objects.filter(pk__in=[first["id"], second["id"]]).order_by("id").values()) == before
        assert Lead.objects.count() == 3


def test_a_lead_sent_twice_in_one_batch_refuses_the_later_one(workspace, api):
    response = send_bulk(
        api, "leads", [{"email": "pat@acme.com", "first_name": "One"}, {"email": "PAT@acme.com ", "first_name": "Two"}]
    )
    assert statuses(response) == ["created", "error"]
    assert "record 0" in errors_of(response, 1)["email"][0]
    with workspace_scope(workspace):
        assert list(Lead.objects.values_list("first_name", flat=True)) == ["One"]


def test_a_lead_without_created_at_is_touched_and_with_it_a_captured_lead(workspace, api):
    response = send_bulk(
        api,
        "leads",
        [{"email": "reached@acme.com"}, {"email": "captured@acme.com", "created_at": "2026-02-03T04:05:06Z"}],
    )
    reached, captured = (r["id"] for r in response.json()["results"])
    with workspace_scope(workspace):
        leads = Lead.objects.in_bulk([reached, captured])
    assert leads[reached].stage == "touched" and leads[reached].captured_at is None
    assert leads[captured].stage == "lead" and leads[captured].captured_at == at("2026-02-03T04:05:06Z")
    assert [s for s, _ in ledger(workspace, reached)] == ["touched"]
    assert ledger(workspace, captured) == [("lead", at("2026-02-03T04:05:06Z"))]
    shown = api.get(f"{API}/leads/{captured}/").json()
    assert (shown["stage"], shown["created_at"]) == ("lead", "2026-02-03T04:05:06Z")


def test_a_date_alone_is_midnight_in_the_workspace_time_zone(workspace, api):
    workspace.timezone = "Europe/Berlin"
    workspace.save()
    lead_id = send_bulk(api, "leads", [{"email": "pat@acme.com", "created_at": "2026-01-31"}]).json()["results"][0][
        "id"
    ]
    assert ledger(workspace, lead_id) == [("lead", at("2026-01-30T23:00:00Z"))]


def test_a_created_at_sent_later_captures_a_touched_person_once(workspace, api):
    lead_id = send_bulk(api, "leads", [{"email": "pat@acme.com"}]).json()["results"][0]["id"]
    later = send_bulk(api, "leads", [{"email": "pat@acme.com", "created_at": "2026-01-02T00:00:00Z"}])
    again = send_bulk(api, "leads", [{"email": "pat@acme.com", "created_at": "2026-01-02T00:00:00Z"}])
    assert statuses(later) == ["updated"] and statuses(again) == ["unchanged"]
    assert ("lead", at("2026-01-02T00:00:00Z")) in ledger(workspace, lead_id)
    assert [s for s, _ in ledger(workspace, lead_id)].count("lead") == 1


# --- accounts ---------------------------------------------------------------------------------


def test_an_account_is_matched_on_external_id_then_normalized_domain(workspace, api):
    created = send_bulk(api, "accounts", [{"external_id": "AC-1", "name": "Acme", "domain": "acme.com"}]).json()
    by_domain = send_bulk(api, "accounts", [{"name": "Acme Corp", "domain": "https://www.Acme.com/x"}]).json()
    by_external = send_bulk(api, "accounts", [{"external_id": "AC-1", "industry": "Software"}]).json()
    account_id = created["results"][0]["id"]
    assert [by_domain["results"][0]["status"], by_domain["results"][0]["id"]] == ["updated", account_id]
    assert [by_external["results"][0]["status"], by_external["results"][0]["id"]] == ["updated", account_id]
    with workspace_scope(workspace):
        account = Account.objects.get()
    assert (account.name, account.domain, account.industry) == ("Acme Corp", "acme.com", "Software")


def test_an_account_whose_external_id_and_domain_name_two_accounts_is_refused_naming_both(workspace, api):
    first, second = send_bulk(
        api,
        "accounts",
        [{"external_id": "A", "name": "A", "domain": "a.com"}, {"external_id": "B", "name": "B", "domain": "b.com"}],
    ).json()["results"]
    response = send_bulk(
        api, "accounts", [{"external_id": "A", "domain": "www.B.com"}, {"external_id": "C", "name": "C"}]
    )
    assert statuses(response) == ["error", "created"]
    message = " ".join(m for messages in errors_of(response).values() for m in messages)
    assert f"#{first['id']}" in message and f"#{second['id']}" in message
    with workspace_scope(workspace):
        assert Account.objects.get(pk=first["id"]).domain == "a.com"


def test_an_account_domain_sent_twice_in_one_batch_refuses_the_later_one(workspace, api):
    response = send_bulk(
        api, "accounts", [{"name": "One", "domain": "acme.com"}, {"name": "Two", "domain": "ACME.com/"}]
    )
    assert statuses(response) == ["created", "error"]
    assert "record 0" in errors_of(response, 1)["domain"][0]
    assert count(workspace, Account) == 1


def test_an_external_id_sent_twice_in_one_batch_refuses_the_later_one(workspace, api):
    response = send_bulk(api, "campaigns", [BATCHES["campaigns"][0], BATCHES["campaigns"][0] | {"name": "Twice"}])
    assert statuses(response) == ["created", "error"]
    assert "record 0" in errors_of(response, 1)["external_id"][0]
    with workspace_scope(workspace):
        assert list(Campaign.objects.values_list("name", flat=True)) == ["Spring webinar"]


# --- touches ----------------------------------------------------------------------------------


def test_a_touch_without_external_id_is_matched_on_its_natural_key(workspace, api):
    load_all(api, upto="campaigns")
    touch = {"lead_external_id": "L-1", "campaign_external_id": "CMP-1", "type": "web_visit",
             "occurred_at": "2026-01-13T10:00:00Z"}  # fmt: skip
    assert statuses(send_bulk(api, "touches", [touch])) == ["created"]
    assert statuses(send_bulk(api, "touches", [touch])) == ["unchanged"]
    # the same lead, time and campaign but another type is another touch
    assert statuses(send_bulk(api, "touches", [touch | {"type": "form_fill"}])) == ["created"]
    assert count(workspace, Touch) == 2


def test_a_touch_for_a_lead_that_does_not_exist_is_an_error_naming_lead_external_id(workspace, api):
    response = send_bulk(
        api,
        "touches",
        [
            {
                "lead_external_id": "NOPE",
                "channel": "email",
                "type": "email_click",
                "occurred_at": "2026-01-13T10:00:00Z",
            }
        ],  # fmt: skip
    )
    assert statuses(response) == ["error"]
    assert "NOPE" in errors_of(response)["lead_external_id"][0]
    assert count(workspace, Touch) == 0
    assert count(workspace, Lead) == 0


def test_a_touch_older_than_the_persons_first_ledger_row_is_their_backdated_entry_into_touched(workspace, api):
    lead_id = send_bulk(
        api, "leads", [{"external_id": "L-1", "email": "pat@acme.com", "created_at": "2026-01-10"}]
    ).json()["results"][0]["id"]
    response = send_bulk(
        api,
        "touches",
        [
            {
                "lead_external_id": "L-1",
                "channel": "paid_search",
                "type": "ad_click",
                "occurred_at": "2026-01-05T08:00:00Z",
            }
        ],
    )
    assert statuses(response) == ["created"]
    assert ledger(workspace, lead_id) == [("touched", at("2026-01-05T08:00:00Z")), ("lead", at("2026-01-10T00:00:00Z"))]
    with workspace_scope(workspace):
        assert Lead.objects.get(pk=lead_id).stage == "lead"
        assert StageEvent.objects.get(lead_id=lead_id, stage="touched").source == "api"
    # resent: no second backdated row
    send_bulk(
        api,
        "touches",
        [
            {
                "lead_external_id": "L-1",
                "channel": "paid_search",
                "type": "ad_click",
                "occurred_at": "2026-01-05T08:00:00Z",
            }
        ],
    )
    assert len(ledger(workspace, lead_id)) == 2


def test_an_unknown_channel_is_an_error_listing_the_known_ones(api):
    load_all(api, upto="leads")
    response = send_bulk(
        api,
        "touches",
        [
            {"lead_external_id": "L-1", "channel": "tiktok", "type": "ad_click", "occurred_at": "2026-01-13T10:00:00Z"}
        ],  # fmt: skip
    )
    (message,) = errors_of(response)["channel"]
    assert "tiktok" in message and "paid_search" in message and "webinar" in message


# --- stage events -----------------------------------------------------------------------------


def test_importing_stage_history_is_idempotent(workspace, api):
    load_all(api, upto="leads")
    first = send_bulk(api, "stage-events", BATCHES["stage-events"])
    assert statuses(first) == ["created", "created"]
    with workspace_scope(workspace):
        lead = Lead.objects.get(external_id="L-1")
        events = StageEvent.objects.count()
    assert (lead.stage, lead.stage_entered_at) == ("sal", at("2026-01-17T09:00:00Z"))
    again = send_bulk(api, "stage-events", BATCHES["stage-events"])
    assert statuses(again) == ["unchanged", "unchanged"]
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert count(workspace, StageEvent) == events


def test_a_stage_event_the_transition_table_forbids_is_refused_naming_both_stages(workspace, api):
    load_all(api, upto="leads")
    response = send_bulk(
        api,
        "stage-events",
        [
            {"lead_external_id": "L-1", "stage": "recycled", "entered_at": "2026-01-16T09:00:00Z"},
            {"lead_external_id": "L-2", "stage": "mql", "entered_at": "2026-01-16T09:00:00Z"},
        ],
    )
    assert statuses(response) == ["error", "created"]
    (message,) = errors_of(response)["stage"]
    assert "'lead'" in message and "'recycled'" in message
    assert count(workspace, StageEvent, stage="recycled") == 0


# --- opportunities ----------------------------------------------------------------------------


def test_an_opportunity_created_won_writes_its_contract_and_ledger_rows(workspace, api):
    load_all(api, upto="stage-events")
    response = send_bulk(
        api,
        "opportunities",
        [BATCHES["opportunities"][0] | {"stage": "won", "closed_at": "2026-02-10T12:00:00Z"}],
    )
    assert statuses(response) == ["created"]
    deal_id = response.json()["results"][0]["id"]
    with workspace_scope(workspace):
        contract = Contract.objects.get()
        lead = Lead.objects.get(external_id="L-1")
        deal_rows = list(
            StageEvent.objects.filter(opportunity_id=deal_id).order_by("entered_at").values_list("stage", "entered_at")
        )
    assert contract.opportunity_id == deal_id
    assert contract.annual_value == 25000
    assert contract.start_date == dt.date(2026, 2, 10)
    assert deal_rows == [("opportunity", at("2026-01-20T09:00:00Z")), ("won", at("2026-02-10T12:00:00Z"))]
    assert lead.stage == "won"


def test_an_illegal_opportunity_move_is_refused_naming_both_stages(workspace, api):
    load_all(api, upto="stage-events")
    won = BATCHES["opportunities"][0] | {"stage": "won", "closed_at": "2026-02-10T12:00:00Z"}
    send_bulk(api, "opportunities", [won])
    response = send_bulk(api, "opportunities", [{"external_id": "OPP-1", "stage": "qualification"}])
    assert statuses(response) == ["error"]
    (message,) = errors_of(response)["stage"]
    assert "'won'" in message and "'qualification'" in message
    with workspace_scope(workspace):
        assert Opportunity.objects.get().stage == "won"
        assert Contract.objects.count() == 1


def test_a_lost_opportunity_needs_a_lost_reason(workspace, api):
    load_all(api)
    response = send_bulk(api, "opportunities", [{"external_id": "OPP-1", "stage": "lost"}])
    assert "lost_reason" in errors_of(response)
    lost = send_bulk(
        api,
        "opportunities",
        [
            {"external_id": "OPP-1", "stage": "lost", "lost_reason": "price", "closed_at": "2026-02-01T00:00:00Z"}
        ],  # fmt: skip
    )
    assert statuses(lost) == ["updated"]
    with workspace_scope(workspace):
        assert Lead.objects.get(external_id="L-1").stage == "lost"


def test_a_single_post_is_an_upsert_of_one(workspace, api):
    created = api.post(f"{API}/leads/", {"email": "pat@acme.com", "first_name": "Pat"}, format="json")
    matched = api.post(f"{API}/leads/", {"email": "PAT@acme.com", "first_name": "Pat"}, format="json")
    assert (created.status_code, matched.status_code) == (201, 200)
    assert created.json()["id"] == matched.json()["id"]
    assert count(workspace, Lead) == 1


def test_a_patch_clears_a_field_sent_empty_and_keeps_the_rest(workspace, api):
    lead_id = send_bulk(api, "leads", [{"email": "pat@acme.com", "first_name": "Pat", "title": "CTO"}]).json()[
        "results"
    ][0]["id"]
    response = api.patch(f"{API}/leads/{lead_id}/", {"title": ""}, format="json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["first_name"]) == ("", "Pat")
    refused = api.patch(f"{API}/leads/{lead_id}/", {"email": ""}, format="json")
    assert refused.status_code == 400 and "email" in refused.json()


def test_deleting_an_account_still_referenced_is_409_and_an_unreferenced_one_204(workspace, api):
    load_all(api, upto="leads")
    with workspace_scope(workspace):
        used, unused = (Account.objects.get(external_id=key).pk for key in ("ACC-1", "ACC-2"))
    send_bulk(api, "leads", [{"external_id": "L-2", "account_external_id": "ACC-1"}])
    conflict = api.delete(f"{API}/accounts/{used}/")
    assert conflict.status_code == 409 and "leads" in conflict.json()["detail"]
    assert api.delete(f"{API}/accounts/{unused}/").status_code == 204
    assert count(workspace, Account) == 1


def test_deleting_a_campaign_with_touches_is_409(workspace, api):
    load_all(api, upto="touches")
    with workspace_scope(workspace):
        campaign_id = Campaign.objects.get().pk
    response = api.delete(f"{API}/campaigns/{campaign_id}/")
    assert response.status_code == 409
    assert count(workspace, Campaign) == 1


def test_deleting_a_lead_keeps_its_touches_and_ledger_rows_without_the_person(workspace, api):
    load_all(api, upto="stage-events")
    with workspace_scope(workspace):
        lead = Lead.objects.get(external_id="L-1")
        touches = list(Touch.objects.filter(lead=lead).values_list("id", flat=True))
        events = list(StageEvent.objects.filter(lead=lead).values_list("id", "stage"))
    assert touches and events
    assert api.delete(f"{API}/leads/{lead.pk}/").status_code == 204
    with workspace_scope(workspace):
        assert list(Touch.objects.filter(lead=lead).values_list("id", flat=True)) == touches
        assert list(StageEvent.objects.filter(lead=lead).values_list("id", "stage")) == events
        erased = Lead.objects.get(pk=lead.pk)
    assert (erased.email, erased.first_name, erased.phone, erased.stage) == ("", "", "", "sal")
    shown = api.get(f"{API}/touches/{touches[0]}/").json()
    assert (shown["lead_external_id"], shown["lead_email"]) == ("L-1", "")


def test_an_export_has_the_interchange_columns_and_every_live_record(api):
    load_all(api, upto="leads")
    response = api.get(f"{API}/leads/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].split(",") == list(LEADS.output_names)
    assert len(lines) == 1 + len(BATCHES["leads"])


def test_a_full_batch_of_touches_without_external_id_is_matched_in_one_query(workspace, api):
    leads = [{"external_id": f"L-{n}", "email": f"p{n}@acme.com", "created_at": "2026-01-10"} for n in range(50)]
    assert statuses(send_bulk(api, "leads", leads)) == ["created"] * 50
    touches = [
        {
            "lead_external_id": f"L-{n % 50}",
            "channel": "paid_search",
            "type": "ad_click",
            "occurred_at": (dt.datetime(2026, 1, 11, tzinfo=dt.UTC) + dt.timedelta(minutes=n)).isoformat(),
        }
        for n in range(1000)
    ]
    assert statuses(send_bulk(api, "touches", touches)) == ["created"] * 1000
    with CaptureQueriesContext(connection) as few:
        assert statuses(send_bulk(api, "touches", touches[:100])) == ["unchanged"] * 100
    with CaptureQueriesContext(connection) as many:
        assert statuses(send_bulk(api, "touches", touches)) == ["unchanged"] * 1000
    assert len(many) == len(few)  # one query per batch, not per record
    assert count(workspace, Touch) == 1000


def test_an_erased_leads_touches_resent_are_unchanged_and_a_new_one_is_refused(workspace, api):
    load_all(api, upto="touches")
    with workspace_scope(workspace):
        lead_id = Lead.objects.get(external_id="L-1").pk
    keyless = {
        "lead_external_id": "L-1",
        "channel": "email",
        "type": "email_click",
        "occurred_at": "2026-01-14T10:00:00Z",
    }
    assert statuses(send_bulk(api, "touches", [keyless])) == ["created"]
    assert api.delete(f"{API}/leads/{lead_id}/").status_code == 204
    assert statuses(send_bulk(api, "touches", [BATCHES["touches"][0], keyless])) == ["unchanged", "unchanged"]
    response = send_bulk(api, "touches", [keyless | {"occurred_at": "2026-01-15T11:00:00Z"}])
    assert "erased" in errors_of(response)["lead_external_id"][0]
    assert count(workspace, Touch, lead_id=lead_id) == 2


def test_a_recycled_entry_carrying_its_rejections_reason_imports_back_unchanged(workspace, api):
    load_all(api, upto="leads")
    history = [
        {"lead_external_id": "L-1", "stage": "mql", "entered_at": "2026-01-16T09:00:00Z"},
        {"lead_external_id": "L-1", "stage": "rejected", "entered_at": "2026-01-17T09:00:00Z", "reason": "timing"},
    ]
    assert statuses(send_bulk(api, "stage-events", history)) == ["created", "created"]
    recycled = {
        "lead_external_id": "L-1",
        "stage": "recycled",
        "entered_at": "2026-01-17T09:00:00Z",
        "reason": "timing",
    }
    assert statuses(send_bulk(api, "stage-events", [*history, recycled])) == ["unchanged"] * 3
    assert count(workspace, StageEvent, stage="recycled") == 1


@pytest.mark.parametrize(
    ("resource", "record", "field"),
    [
        (
            "stage-events",
            {"lead_external_id": "L-1", "stage": "mql", "entered_at": "2100-01-01T00:00:00Z"},
            "entered_at",
        ),
        ("opportunities", BATCHES["opportunities"][0] | {"created_at": "2100-01-01T00:00:00Z"}, "created_at"),
        ("opportunities", BATCHES["opportunities"][0] | {"stage": "won", "closed_at": "2100-01-01"}, "closed_at"),
        ("leads", BATCHES["leads"][0] | {"created_at": "2100-01-01"}, "created_at"),
        ("touches", BATCHES["touches"][0] | {"occurred_at": "2100-01-01T00:00:00Z"}, "occurred_at"),
    ],
)
def test_a_time_in_the_future_is_refused_naming_the_field(workspace, api, resource, record, field):
    load_all(api, upto="campaigns")
    with workspace_scope(workspace):
        events = StageEvent.objects.count()
    response = send_bulk(api, resource, [record])
    assert errors_of(response)[field] == [
        f"2100-01-01T00:00:00+00:00 is in the future: {field} takes times from 1970-01-01T00:00:00Z "
        "to five minutes ahead of now."
    ]
    with workspace_scope(workspace):
        assert StageEvent.objects.count() == events
        assert Lead.objects.get(external_id="L-1").stage_entered_at.year == 2026


def test_a_time_within_the_clock_skew_is_taken(api):
    load_all(api, upto="leads")
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
    record = {"lead_external_id": "L-1", "stage": "mql", "entered_at": soon}
    assert statuses(send_bulk(api, "stage-events", [record])) == ["created"]
