"""List filters: the interchange's references filter the lists, and a parameter nobody knows is
refused instead of answering every record as if it had filtered them."""

import pytest

from .api_helpers import API, key_client, seed_workspace

# PostgreSQL's feed hides what the reader's own open transaction wrote: commit as production does.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(workspace):
    seed_workspace(workspace)
    return key_client(workspace, scope="read")


def _ids(response, key="results"):
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()[key]]


@pytest.mark.parametrize("path", ["leads", "touches", "stage-events", "accounts", "campaigns"])
def test_an_unknown_list_parameter_is_400_naming_it_and_the_known_ones(api, path):
    response = api.get(f"{API}/{path}/", {"bogus": "1"})
    assert response.status_code == 400
    message = " ".join(response.json()["bogus"])
    assert "Unknown parameter" in message and "updated_since" in message
    assert api.get(f"{API}/{path}/export/", {"bogus": "1"}).status_code == 400


def test_touches_filter_on_their_external_id(api):
    assert len(_ids(api.get(f"{API}/touches/", {"external_id": "TCH-1"}))) == 1
    assert _ids(api.get(f"{API}/touches/", {"external_id": "nope"})) == []


def test_stage_events_filter_on_the_leads_email_as_typed(api):
    every = _ids(api.get(f"{API}/stage-events/"))
    assert len(every) > 1
    theirs = _ids(api.get(f"{API}/stage-events/", {"lead_email": "  APat@Acme.TEST "}))
    assert theirs and set(theirs) < set(every)
    assert _ids(api.get(f"{API}/stage-events/", {"lead_email": "nobody@acme.test"})) == []


def test_leads_filter_on_email_in_any_case(api):
    assert len(_ids(api.get(f"{API}/leads/", {"email": "APAT@acme.test"}))) == 1


def test_touch_time_bounds_read_timestamps_as_the_interchange_does(api):
    assert len(_ids(api.get(f"{API}/touches/", {"occurred_after": "2026-01-06"}))) == 1  # T0 + 1 day
    assert _ids(api.get(f"{API}/touches/", {"occurred_after": "2026-01-07T00:00:00+01:00"})) == []
    for odd in ("0664-02-28T05:42:57.46+19:17", "next week"):
        response = api.get(f"{API}/touches/export/", {"occurred_after": odd})
        assert response.status_code == 400, odd
        assert "occurred_after" in response.json()
