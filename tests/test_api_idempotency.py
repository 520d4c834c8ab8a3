"""Safe retries: an Idempotency-Key replays the first answer and writes nothing; reusing a key
for another request is 422; without a key, a resent single create still matches its lead."""

import pytest

from funnel.models import StageEvent
from leads.models import Lead
from sync.models import IdempotencyRecord, Tombstone
from workspaces.scoping import workspace_scope

from .api_helpers import API, bearer, count, key_client, make_key, seed_workspace, send_bulk


@pytest.fixture
def api(workspace):
    return key_client(workspace)


def rows(workspace) -> list[dict]:
    with workspace_scope(workspace):
        return list(Lead.objects.order_by("id").values())


def test_the_same_key_and_body_replays_the_first_answer_and_writes_nothing(workspace, api):
    records = [{"email": "pat@acme.com"}, {"email": "sam@acme.com"}]
    first = send_bulk(api, "leads", records, HTTP_IDEMPOTENCY_KEY="batch-1")
    before = rows(workspace)
    second = send_bulk(api, "leads", records, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert [r["status"] for r in second.json()["results"]] == ["created", "created"]  # the first answer, replayed
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert rows(workspace) == before
    assert count(workspace, IdempotencyRecord) == 1


def test_a_replayed_single_create_keeps_its_201(workspace, api):
    body = {"email": "pat@acme.com", "first_name": "Pat"}
    first = api.post(f"{API}/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="one")
    second = api.post(f"{API}/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="one")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert count(workspace, Lead) == 1
    assert count(workspace, StageEvent) == 1


def test_the_same_key_with_another_body_is_422_and_writes_nothing(workspace, api):
    send_bulk(api, "leads", [{"email": "pat@acme.com"}], HTTP_IDEMPOTENCY_KEY="k")
    response = send_bulk(api, "leads", [{"email": "other@acme.com"}], HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert "'k'" in response.json()["detail"]
    assert count(workspace, Lead) == 1


def test_a_retry_encoded_differently_is_the_same_request(workspace, api):
    """Clients re-serialize their retries: other spacing or key order is the same body."""
    first = api.post(
        f"{API}/leads/bulk/", '{"records": [{"email": "pat@acme.com", "first_name": "Pat"}]}',
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="respaced",
    )  # fmt: skip
    again = api.post(
        f"{API}/leads/bulk/", '{ "records" : [ { "first_name" : "Pat",\n "email" : "pat@acme.com" } ] }',
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="respaced",
    )  # fmt: skip
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert count(workspace, Lead) == 1


def test_the_same_key_on_another_endpoint_is_422(workspace, api):
    send_bulk(api, "leads", [], HTTP_IDEMPOTENCY_KEY="k")
    response = send_bulk(api, "accounts", [], HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422


def test_keys_belong_to_their_sender(workspace, api):
    """Another key sending the same Idempotency-Key is another request: its own answer."""
    send_bulk(api, "leads", [{"email": "pat@acme.com"}], HTTP_IDEMPOTENCY_KEY="k")
    other = bearer(make_key(workspace, name="other system")[1])
    response = send_bulk(other, "leads", [{"email": "pat@acme.com", "first_name": "Pat"}], HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["updated"]
    assert "Idempotent-Replayed" not in response


def test_a_refused_write_is_not_remembered_under_its_key(workspace, api):
    """A 400 rolls back with the key, so the corrected retry under the same key is a new write."""
    bad = api.post(f"{API}/leads/", {"email": "not-an-email"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400
    assert count(workspace, IdempotencyRecord) == 0
    fixed = api.post(f"{API}/leads/", {"email": "pat@acme.com"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert fixed.status_code == 201


def test_a_replayed_delete_does_not_erase_twice(workspace, api):
    seeded = seed_workspace(workspace)
    url = f"{API}/leads/{seeded.spare['leads']}/"
    assert api.delete(url, HTTP_IDEMPOTENCY_KEY="del").status_code == 204
    replay = api.delete(url, HTTP_IDEMPOTENCY_KEY="del")
    assert replay.status_code == 204
    assert replay["Idempotent-Replayed"] == "true"
    assert count(workspace, Tombstone, record_id=seeded.spare["leads"]) == 1


def test_a_replayed_merge_returns_the_first_answer(workspace, api):
    seeded = seed_workspace(workspace)
    body = {"survivor_id": seeded.ids["leads"], "loser_id": seeded.spare["leads"]}
    first = api.post(f"{API}/leads/merge/", body, format="json", HTTP_IDEMPOTENCY_KEY="merge")
    replay = api.post(f"{API}/leads/merge/", body, format="json", HTTP_IDEMPOTENCY_KEY="merge")
    assert first.status_code == 200
    assert (replay.status_code, replay.json()) == (200, first.json())
    assert replay["Idempotent-Replayed"] == "true"
    assert count(workspace, Tombstone, kind="merged") == 1


def test_an_over_long_key_is_refused(api):
    response = send_bulk(api, "leads", [], HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 422


def test_without_a_key_a_resent_single_create_matches_the_lead(workspace, api):
    body = {"email": "pat@acme.com", "first_name": "Pat", "created_at": "2026-01-02T03:04:05Z"}
    first = api.post(f"{API}/leads/", body, format="json")
    again = api.post(f"{API}/leads/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert count(workspace, Lead) == 1
    assert count(workspace, StageEvent) == 1


def test_an_answer_quoting_a_control_character_is_kept_and_replayed(workspace, api):
    """The answer quotes what was sent; a NUL in it made PostgreSQL's jsonb refuse to store the
    answer (a 500) until it was kept as text and quoted values were escaped."""
    records = [{"name": "Acme", "employees": "12\u0000"}, {"name": "Beta", "domain": "beta.example"}]
    first = send_bulk(api, "accounts", records, HTTP_IDEMPOTENCY_KEY="nul-1")
    assert first.status_code == 200
    assert first.json()["results"][0]["errors"] == {"employees": ["'12\\x00' is not a whole number."]}
    again = send_bulk(api, "accounts", records, HTTP_IDEMPOTENCY_KEY="nul-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_a_long_or_odd_value_is_quoted_short_and_escaped():
    from sync.interchange import shown

    assert shown("a\u0000b\tc") == "a\\x00b\\x09c"
    assert shown("x" * 100) == "x" * 59 + "…"
