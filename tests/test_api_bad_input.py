"""Bad input answers 400 (or 404, 413, 422) naming the field and the record, never 500, and
loses nothing that was valid."""

import base64
import json

import pytest

from accounts.models import Account
from attribution.models import Campaign, Touch
from funnel.models import Opportunity, StageEvent
from leads.models import Lead

from .api_helpers import API, count, errors_of, key_client, seed_workspace, send_bulk, statuses


@pytest.fixture
def api(workspace):
    return key_client(workspace)


def test_malformed_json_is_400_on_every_write(api):
    for url in (f"{API}/leads/", f"{API}/leads/bulk/", f"{API}/leads/merge/"):
        response = api.post(url, data='{"records": [{"email": ', content_type="application/json")
        assert response.status_code == 400, url
        assert "JSON parse error" in response.json()["detail"]


def test_a_body_that_is_not_json_is_415(api):
    response = api.post(
        f"{API}/leads/bulk/", data="email=pat@acme.com", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_a_non_object_record_is_an_error_of_that_record_only(workspace, api):
    response = send_bulk(api, "leads", [1, "pat@acme.com", ["x"], None, {"email": "ok@acme.com"}])
    assert statuses(response) == ["error", "error", "error", "error", "created"]
    assert "not int" in errors_of(response, 0)["non_field_errors"][0]
    assert "not str" in errors_of(response, 1)["non_field_errors"][0]
    assert count(workspace, Lead) == 1


@pytest.mark.parametrize("body", [[1, 2], "a lead", 5, None], ids=["list", "string", "number", "null"])
def test_a_single_create_that_is_not_an_object_is_400(workspace, api, body):
    response = api.post(f"{API}/leads/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["non_field_errors"][0]


@pytest.mark.parametrize("records", ["abc", {"email": "a@b.co"}, 3], ids=["string", "object", "number"])
def test_records_that_are_not_a_list_are_400_naming_records(api, records):
    response = api.post(f"{API}/leads/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    assert "records" in response.json()


def test_an_unknown_top_level_field_of_a_batch_is_400_naming_it(api):
    response = api.post(f"{API}/leads/bulk/", {"records": [], "mode": "replace"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"mode": ["Unknown field."]}


# (resource, a valid record, the field, the bad value, words the message must contain)
WRONG_VALUES = [
    ("leads", {"email": "pat@acme.com"}, "first_name", 123, "text"),
    ("leads", {"email": "pat@acme.com"}, "first_name", {"a": 1}, "text"),
    ("leads", {"email": "pat@acme.com"}, "email", "pat.acme.com", "valid email"),
    ("leads", {"email": "pat@acme.com"}, "seniority", "boss", "executive"),
    ("leads", {"email": "pat@acme.com"}, "created_at", "01/31/2026", "ISO 8601"),
    ("leads", {"email": "pat@acme.com"}, "created_at", "2026-02-30", "ISO 8601"),
    ("leads", {"email": "pat@acme.com"}, "created_at", 1767225600, "ISO 8601"),
    ("leads", {"email": "pat@acme.com"}, "created_at", "2999-01-01T00:00:00Z", "from 1970-01-01T00:00:00Z"),
    ("leads", {"email": "pat@acme.com"}, "created_at", "1900-01-01T00:00:00Z", "is before 1970"),
    ("leads", {"email": "pat@acme.com"}, "first_name", "x" * 101, "100 characters"),
    ("accounts", {"name": "Acme"}, "employees", "abc", "whole number"),
    ("accounts", {"name": "Acme"}, "employees", -5, "below zero"),
    ("accounts", {"name": "Acme"}, "employees", 2.5, "whole number"),
    ("accounts", {"name": "Acme"}, "employees", "\u00b2", "whole number"),
    ("accounts", {"name": "Acme"}, "employees", True, "whole number"),
    ("accounts", {"name": "Acme"}, "employees", 10**12, "Too large"),
    ("accounts", {"name": "Acme"}, "domain", "not a domain", "valid domain"),
    ("accounts", {"name": "Acme"}, "country", "D1", "two-letter"),
    ("accounts", {"name": "Acme"}, "country", "Germany", "2 characters"),
    ("campaigns", {"name": "C", "channel": "email", "type": "email", "start_date": "2026-01-01"},
     "start_date", "01/31/2026", "ISO 8601"),
    ("campaigns", {"name": "C", "channel": "email", "type": "email", "start_date": "2026-01-01"},
     "budget", "-10", "below zero"),
    ("campaigns", {"name": "C", "channel": "email", "type": "email", "start_date": "2026-01-01"},
     "budget", "lots", "not a number"),
    ("campaigns", {"name": "C", "channel": "email", "type": "email", "start_date": "2026-01-01"},
     "end_date", "2025-12-01", "before the start date"),
    ("campaigns", {"name": "C", "channel": "email", "type": "email", "start_date": "2026-01-01"},
     "type", "billboard", "webinar"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "record", "field", "value", "words"),
    WRONG_VALUES,
    ids=[f"{r}.{f}={v!r}"[:60] for r, _, f, v, _ in WRONG_VALUES],
)
def test_a_wrong_value_is_an_error_naming_its_field_and_record(workspace, api, resource, record, field, value, words):
    response = send_bulk(
        api, resource, [record | {"external_id": "GOOD"}, record | {"external_id": "BAD", field: value}]
    )
    assert statuses(response) == ["created", "error"]
    errors = errors_of(response, 1)
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert response.json()["results"][1]["index"] == 1
    single = api.post(f"{API}/{resource}/", record | {"external_id": "BAD", field: value}, format="json")
    assert single.status_code == 400
    assert field in single.json()


@pytest.mark.parametrize(
    "amount",
    [True, -1, "-0.01", "12,50", "1e30", 1e30, "NaN", "Infinity", [1]],
    ids=["bool", "negative", "negative-cents", "comma", "huge-text", "huge-number", "nan", "infinity", "list"],
)
def test_a_bad_amount_is_an_error_naming_amount(workspace, api, amount):
    seed = seed_workspace(workspace)
    record = {"external_id": "OPP-BAD", "name": "Deal", "account_external_id": "ACC-1",
              "lead_external_id": "LEAD-1", "amount": amount}  # fmt: skip
    response = send_bulk(api, "opportunities", [record])
    assert response.status_code == 200, response.content[:300]
    assert "amount" in errors_of(response)
    assert count(workspace, Opportunity) == 1
    assert seed.ids["opportunities"]


def test_an_unknown_field_is_an_error_naming_it_and_the_known_ones(workspace, api):
    response = send_bulk(api, "leads", [{"email": "pat@acme.com", "favourite_colour": "blue"}])
    (message,) = errors_of(response)["favourite_colour"]
    assert "Unknown field" in message and "first_name" in message
    assert count(workspace, Lead) == 0


def test_output_only_fields_sent_back_in_are_ignored(workspace, api):
    response = send_bulk(api, "leads", [{"id": 999, "email": "pat@acme.com", "stage": "won", "score": 100}])
    assert statuses(response) == ["created"]
    lead = api.get(f"{API}/leads/{response.json()['results'][0]['id']}/").json()
    assert (lead["stage"], lead["score"]) == ("touched", 0)


@pytest.mark.parametrize(
    ("resource", "record", "missing"),
    [
        ("accounts", {"external_id": "A-1", "domain": "acme.com"}, "name"),
        ("leads", {"external_id": "L-1", "first_name": "Pat"}, "email"),
        ("campaigns", {"external_id": "C-1", "name": "C", "type": "email", "start_date": "2026-01-01"}, "channel"),
        ("campaigns", {"external_id": "C-1", "name": "C", "channel": "email", "type": "email"}, "start_date"),
        ("opportunities", {"external_id": "O-1", "name": "Deal"}, "amount"),
        ("stage-events", {"lead_external_id": "L-1", "stage": "mql"}, "entered_at"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_missing_required_field_to_create_is_named(workspace, api, resource, record, missing):
    response = send_bulk(api, resource, [record])
    assert missing in errors_of(response), errors_of(response)


def test_a_bulk_record_without_any_key_is_refused_so_a_resend_cannot_duplicate_it(workspace, api):
    response = send_bulk(api, "accounts", [{"name": "No key"}])
    assert "external_id" in errors_of(response)
    assert count(workspace, Account) == 0


# --- references to another workspace read exactly like missing ones ---------------------------

REFERENCES = [
    ("leads", {"email": "pat@acme.com"}, "account_external_id", "accounts"),
    ("touches", {"channel": "email", "type": "email_click", "occurred_at": "2026-01-13T10:00:00Z"},
     "lead_external_id", "leads"),
    ("touches", {"lead_external_id": "LEAD-1", "type": "email_click", "occurred_at": "2026-01-13T10:00:00Z"},
     "campaign_external_id", "campaigns"),
    ("opportunities", {"external_id": "OPP-NEW", "name": "Deal", "lead_external_id": "LEAD-1", "amount": "10"},
     "account_external_id", "accounts"),
    ("opportunities", {"external_id": "OPP-NEW", "name": "Deal", "account_external_id": "ACC-1", "amount": "10"},
     "lead_external_id", "leads"),
    ("stage-events", {"stage": "mql", "entered_at": "2026-01-13T10:00:00Z"}, "lead_external_id", "leads"),
    ("stage-events", {"lead_external_id": "LEAD-1", "stage": "churned", "entered_at": "2026-03-13T10:00:00Z"},
     "opportunity_external_id", "opportunities"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "record", "field", "target"), REFERENCES, ids=[f"{r}.{f}" for r, _, f, _ in REFERENCES]
)
def test_a_reference_to_another_workspace_reads_exactly_like_a_missing_one(
    workspace, other_workspace, api, resource, record, field, target
):
    seed_workspace(workspace)
    theirs = seed_workspace(other_workspace, prefix="B-")
    their_key = theirs.external_ids[target]
    foreign = send_bulk(api, resource, [record | {field: their_key}])
    missing = send_bulk(api, resource, [record | {field: "NO-SUCH-KEY"}])
    assert foreign.status_code == missing.status_code == 200
    foreign_errors, missing_errors = errors_of(foreign), errors_of(missing)
    assert field in foreign_errors
    assert json.dumps(foreign_errors).replace(their_key, "NO-SUCH-KEY") == json.dumps(missing_errors)


def test_an_owner_of_another_workspace_reads_like_a_stranger(workspace, other_workspace, api, member_factory):
    member_factory(other_workspace, role="sales_rep", email="rep@globex.test")
    foreign = send_bulk(api, "leads", [{"email": "pat@acme.com", "owner_email": "rep@globex.test"}])
    missing = send_bulk(api, "leads", [{"email": "pat@acme.com", "owner_email": "nobody@globex.test"}])
    assert errors_of(foreign)["owner_email"][0].replace("rep@", "nobody@") == errors_of(missing)["owner_email"][0]


# --- limits -----------------------------------------------------------------------------------


def test_a_batch_over_1000_records_is_400_naming_the_cap(workspace, api):
    records = [{"email": f"p{i}@acme.com"} for i in range(1001)]
    response = send_bulk(api, "leads", records)
    assert response.status_code == 400
    (message,) = response.json()["records"]
    assert "1000" in message and "1001" in message
    assert count(workspace, Lead) == 0


def test_a_batch_of_exactly_1000_is_taken(workspace, api):
    response = send_bulk(api, "leads", [{"email": f"p{i}@acme.com"} for i in range(1000)])
    assert response.json()["counts"]["created"] == 1000


def test_a_body_over_the_size_cap_is_413_and_writes_nothing(workspace, api, settings):
    settings.API_MAX_BODY_BYTES = 2000
    records = [{"email": f"person-{i}@acme.com", "first_name": "x" * 40} for i in range(40)]
    response = send_bulk(api, "leads", records)
    assert response.status_code == 413
    assert "2,000" in response.json()["detail"]
    assert count(workspace, Lead) == 0
    assert send_bulk(api, "leads", records[:2]).status_code == 200


@pytest.mark.parametrize(
    "page_size",
    ["0", "5000", "1001", "-1", "abc", "1.5", "\u00b2", ""],
    ids=["zero", "5000", "1001", "negative", "word", "fraction", "superscript-two", "empty"],
)
def test_a_page_size_outside_1_to_1000_is_400_naming_it(api, page_size):
    response = api.get(f"{API}/leads/", {"page_size": page_size})
    assert response.status_code == 400, response.content[:300]
    assert "page_size" in response.json()


def _cursor(raw) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "",
        _cursor({"version": 1}),
        _cursor([1, 2, 3]),
        _cursor(["a", 0, -1, 0, None]),
        _cursor([0, 0, -1, 0, "not-a-time"]),
        _cursor([0, 0, -1, 0, 5]),
        _cursor([10**30, 0, -1, 0, None]),
    ],
    ids=["word", "punctuation", "empty", "object", "short", "text-version", "bad-since", "number-since", "huge"],
)
def test_a_garbage_cursor_is_400_naming_cursor(api, cursor):
    response = api.get(f"{API}/leads/", {"cursor": cursor})
    assert response.status_code == 400, response.content[:300]
    assert "cursor" in response.json()


@pytest.mark.parametrize("since", ["yesterday", "01/31/2026", "2026-13-01"])
def test_a_bad_updated_since_is_400_naming_it(api, since):
    response = api.get(f"{API}/leads/", {"updated_since": since})
    assert response.status_code == 400
    assert "updated_since" in response.json()


@pytest.mark.parametrize("resource", ["leads", "accounts", "touches", "contracts"])
def test_an_unknown_id_is_404_with_a_message(api, resource):
    response = api.get(f"{API}/{resource}/987654/")
    assert response.status_code == 404
    assert "987654" in response.json()["detail"]


def test_a_text_with_a_nul_character_is_refused_or_kept_as_sent_never_a_crash(workspace, api):
    response = send_bulk(api, "leads", [{"email": "pat@acme.com", "first_name": "Pa\x00t"}])
    assert response.status_code == 200, response.content[:300]
    result = response.json()["results"][0]
    if result["status"] == "error":
        assert "first_name" in result["errors"]
    else:
        assert api.get(f"{API}/leads/{result['id']}/").json()["first_name"] == "Pa\x00t"


def test_a_bad_filter_value_is_400_naming_it(api):
    response = api.get(f"{API}/leads/", {"stage": "famous"})
    assert response.status_code == 400
    assert "stage" in response.json()


def test_nothing_valid_is_lost_when_some_records_are_bad(workspace, api):
    seed_workspace(workspace)
    response = send_bulk(
        api,
        "touches",
        [
            {"lead_external_id": "LEAD-1", "channel": "email", "type": "email_click", "occurred_at": "2026-01-13"},
            {"lead_external_id": "LEAD-1", "channel": "email", "type": "email_click", "occurred_at": "13/01/2026"},
            {"lead_external_id": "LEAD-1", "channel": "email", "type": "meeting", "occurred_at": "2026-01-14"},
        ],
    )
    assert statuses(response) == ["created", "error", "created"]
    assert count(workspace, Touch) == 3  # the seeded touch and the two good ones
    assert count(workspace, StageEvent, stage="touched") == 0
    assert count(workspace, Campaign) == 2


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_id_beyond_any_row_is_404_not_a_crash(api, method):
    huge = "9" * 25
    response = getattr(api, method)(f"{API}/leads/{huge}/", {}, format="json")
    assert response.status_code == 404, response.content[:300]


def test_a_merge_of_ids_beyond_any_row_is_404_not_a_crash(workspace, api):
    lead_id = seed_workspace(workspace).ids["leads"]
    response = api.post(f"{API}/leads/merge/", {"survivor_id": lead_id, "loser_id": 10**30}, format="json")
    assert response.status_code in (400, 404), response.content[:300]
    assert "loser_id" in str(response.json())


@pytest.mark.parametrize("param", ["external_id", "email", "account_external_id"])
def test_a_filter_value_with_a_nul_character_is_answered_not_a_crash(api, param):
    response = api.get(f"{API}/leads/", {param: "a\x00b"})
    assert response.status_code in (200, 400), response.content[:300]
