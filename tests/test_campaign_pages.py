"""The campaign pages (issue 11): who may read and write them, the status that follows the
dates, the list's filters, search, sort and pages, the create, edit and close forms through the
services, and the figures of one campaign's page."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse

from attribution.models import Campaign, Channel
from attribution.selectors import campaign_status, campaigns_with_status, status_filter
from attribution.services import campaign_close, campaign_create, campaign_reopen, campaign_update, touch_record
from funnel.services import lead_reject, lead_stage_move
from workspaces.models import Role
from workspaces.scoping import workspace_scope

from .factories import CampaignFactory, LeadFactory

PASSWORD = "pw-for-tests-1"
TODAY = dt.date(2026, 6, 15)
NOON = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def people(member_factory, workspace):
    return {role: member_factory(workspace, role=role, email=f"{role}@acme.test") for role in Role.values}


def at(moment):
    """Run as if it were this instant (``timezone.now``, which every date rule here reads)."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return mock.patch("django.utils.timezone.now", return_value=moment)


def login(client, membership):
    assert client.login(email=membership.user.email, password=PASSWORD)
    return client


def url(name, workspace, **kwargs):
    return reverse(name, kwargs={"workspace_slug": workspace.slug, **kwargs})


def campaign(workspace, **values):
    with workspace_scope(workspace):
        return CampaignFactory(workspace=workspace, **values)


def form_data(workspace, **changes):
    with workspace_scope(workspace):
        channel = Channel.objects.get(slug="events")
    data = {
        "name": "Summit 2026",
        "channel": channel.pk,
        "type": "event",
        "start_date": "2026-06-01",
        "end_date": "2026-06-30",
        "budget": "5000.00",
        "actual_cost": "1200.50",
        "owner": "",
        "target_list": "",
        "utm_source": "summit",
        "utm_medium": "event",
        "utm_campaign": "summit-2026",
        "external_id": "",
    }
    return data | changes


# --- status follows the dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "closed", "expected"),
    [
        (TODAY + dt.timedelta(days=1), None, False, "planned"),
        (TODAY, TODAY, False, "active"),  # the start and the end day are both active
        (TODAY - dt.timedelta(days=30), None, False, "active"),  # always on
        (TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=1), False, "closed"),
        (TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=30), True, "closed"),  # closed early
        (TODAY + dt.timedelta(days=5), None, True, "closed"),  # called off before it began
    ],
)
def test_the_status_follows_the_dates_in_python_and_in_sql_alike(workspace, start, end, closed, expected):
    closed_at = NOON if closed else None
    assert campaign_status(start_date=start, end_date=end, closed_at=closed_at, today=TODAY) == expected
    made = campaign(workspace, start_date=start, end_date=end, closed_at=closed_at)
    with workspace_scope(workspace):
        assert campaigns_with_status(workspace, today=TODAY).get(pk=made.pk).status == expected
        for status in ("planned", "active", "closed"):
            found = Campaign.objects.filter(status_filter(status, TODAY), pk=made.pk).exists()
            assert found == (status == expected), status


@pytest.mark.django_db(transaction=True)  # the API's list is a change feed: it shows committed rows
def test_a_status_never_goes_stale_and_the_api_filter_agrees(workspace, member_factory):
    """Set once at creation, the stored status used to stay planned after the start."""
    from .api_helpers import session_client

    made = campaign(workspace, start_date=dt.date(2026, 7, 1), end_date=dt.date(2026, 7, 31))
    client = session_client(member_factory(workspace, role="marketer", email="m@acme.test"))
    for moment, expected in (
        ("2026-06-30T12:00Z", "planned"),
        ("2026-07-15T12:00Z", "active"),
        ("2026-08-01T12:00Z", "closed"),
    ):
        with at(moment):
            answer = client.get(f"/api/v1/campaigns/{made.pk}/").json()
            assert answer["status"] == expected
            listed = client.get("/api/v1/campaigns/", {"status": expected}).json()["results"]
            assert [row["id"] for row in listed] == [made.pk]


def test_today_is_the_workspaces_day_not_the_servers(workspace):
    """At 20:00 UTC on the eve of the start it is already the start day in Shanghai."""
    workspace.timezone = "Asia/Shanghai"
    workspace.save()
    made = campaign(workspace, start_date=dt.date(2026, 7, 1))
    with at("2026-06-30T20:00Z"), workspace_scope(workspace):
        assert campaigns_with_status(workspace).get(pk=made.pk).status == "active"


# --- the services --------------------------------------------------------------------------


def test_close_early_then_reopen_and_closing_twice_changes_nothing(workspace):
    made = campaign(workspace, start_date=dt.date(2026, 6, 1), end_date=dt.date(2026, 6, 30))
    with workspace_scope(workspace), at(NOON):
        closed, did = campaign_close(workspace=workspace, campaign=made)
        assert did and closed.closed_at == NOON
        again, did_again = campaign_close(workspace=workspace, campaign=made)
        assert not did_again and again.closed_at == NOON
        assert campaigns_with_status(workspace).get(pk=made.pk).status == "closed"
        campaign_reopen(workspace=workspace, campaign=made)
        assert campaigns_with_status(workspace).get(pk=made.pk).status == "active"


def test_a_campaign_past_its_end_is_closed_already(workspace):
    made = campaign(workspace, start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 5, 31))
    with workspace_scope(workspace), at(NOON):
        _, did = campaign_close(workspace=workspace, campaign=made)
    assert not did
    made.refresh_from_db()
    assert made.closed_at is None


def test_create_refuses_an_owner_who_is_not_a_member_and_another_workspaces_channel(
    workspace, other_workspace, member_factory
):
    from django.core.exceptions import ValidationError

    outsider = member_factory(other_workspace, role="marketer", email="x@globex.test").user
    with workspace_scope(other_workspace):
        their_channel = Channel.objects.get(slug="events")
    with workspace_scope(workspace):
        channel = Channel.objects.get(slug="events")
        base = {"name": "X", "channel": channel, "type": "event", "start_date": TODAY}
        with pytest.raises(ValidationError) as refused:
            campaign_create(workspace=workspace, **base, owner=outsider)
        assert "owner" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:
            campaign_create(workspace=workspace, **(base | {"channel": their_channel}))
        assert "channel" in refused.value.message_dict
        assert not Campaign.objects.exists()


def test_an_update_that_changes_nothing_writes_nothing(workspace):
    made = campaign(workspace, name="Same")
    with workspace_scope(workspace):
        before = Campaign.objects.values_list("updated_at", "sync_version").get(pk=made.pk)
        campaign_update(workspace=workspace, campaign=made, name="Same", budget=made.budget)
        assert Campaign.objects.values_list("updated_at", "sync_version").get(pk=made.pk) == before
        campaign_update(workspace=workspace, campaign=made, name="Changed")
        assert Campaign.objects.get(pk=made.pk).name == "Changed"


# --- who may use the pages ------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_every_member_reads_and_only_who_manages_campaigns_writes(client, people, workspace, role):
    made = campaign(workspace)
    login(client, people[role])
    assert client.get(url("campaigns", workspace)).status_code == 200
    assert client.get(url("campaign", workspace, pk=made.pk)).status_code == 200
    may_write = role != Role.SALES_REP
    for name, kwargs in (("campaign-new", {}), ("campaign-edit", {"pk": made.pk})):
        assert client.get(url(name, workspace, **kwargs)).status_code == (200 if may_write else 403)
    answer = client.post(url("campaign-close", workspace, pk=made.pk))
    assert answer.status_code == (302 if may_write else 403)
    made.refresh_from_db()
    assert (made.closed_at is not None) == may_write
    page = client.get(url("campaign", workspace, pk=made.pk)).content.decode()
    assert ('id="campaign-edit"' in page) == may_write  # an action one may not take is absent


def test_a_sales_rep_posting_the_forms_is_refused_and_nothing_is_written(client, people, workspace):
    made = campaign(workspace, name="Untouched")
    login(client, people[Role.SALES_REP])
    assert client.post(url("campaign-new", workspace), form_data(workspace)).status_code == 403
    assert client.post(url("campaign-edit", workspace, pk=made.pk), form_data(workspace)).status_code == 403
    with workspace_scope(workspace):
        assert list(Campaign.objects.values_list("name", flat=True)) == ["Untouched"]


def test_another_workspaces_campaign_is_404_and_not_listed(client, people, workspace, other_workspace):
    theirs = campaign(other_workspace, name="Globex secret")
    mine = campaign(workspace, name="Acme launch")
    login(client, people[Role.ADMIN])
    for name in ("campaign", "campaign-edit"):
        assert client.get(url(name, workspace, pk=theirs.pk)).status_code == 404
    assert client.post(url("campaign-close", workspace, pk=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.closed_at is None
    listed = client.get(url("campaigns", workspace)).context["page"].rows
    assert [c.pk for c in listed] == [mine.pk]


def test_the_navigation_shows_campaigns_to_every_member(client, people, workspace):
    login(client, people[Role.SALES_REP])
    page = client.get(url("home", workspace)).content.decode()
    assert url("campaigns", workspace) in page


# --- the list -------------------------------------------------------------------------------


def _names(response) -> list[str]:
    return [c.name for c in response.context["page"].rows]


def test_filters_search_and_status_narrow_the_list(client, people, workspace):
    with workspace_scope(workspace):
        events = Channel.objects.get(slug="events")
    owner = people[Role.MARKETER].user
    campaign(workspace, name="Spring webinar", start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 3, 2))
    campaign(workspace, name="Summer summit", type="event", channel=events, start_date=dt.date(2026, 6, 1), owner=owner)
    campaign(workspace, name="Autumn webinar", start_date=dt.date(2026, 9, 1), end_date=dt.date(2026, 9, 30))
    login(client, people[Role.MANAGER])
    with at(NOON):
        assert _names(client.get(url("campaigns", workspace))) == ["Autumn webinar", "Summer summit", "Spring webinar"]
        assert _names(client.get(url("campaigns", workspace), {"status": "planned"})) == ["Autumn webinar"]
        assert _names(client.get(url("campaigns", workspace), {"status": "closed"})) == ["Spring webinar"]
        assert _names(client.get(url("campaigns", workspace), {"channel": events.pk})) == ["Summer summit"]
        assert _names(client.get(url("campaigns", workspace), {"type": "webinar", "q": "AUTUMN"})) == ["Autumn webinar"]
        assert _names(client.get(url("campaigns", workspace), {"owner": owner.pk})) == ["Summer summit"]
        # running on some day of the range: the always-on summit and the September webinar
        ranged = client.get(url("campaigns", workspace), {"starts_from": "2026-09-10", "starts_to": "2026-12-31"})
        assert _names(ranged) == ["Autumn webinar", "Summer summit"]
        empty = client.get(url("campaigns", workspace), {"q": "nothing like it"})
        assert b"No campaign matches these filters." in empty.content


def test_sort_and_keyset_pages_show_every_campaign_once(client, people, workspace):
    for i in range(55):
        campaign(workspace, name=f"C{i:02d}", budget=Decimal(i % 7), start_date=dt.date(2026, 1, 1))
    login(client, people[Role.MARKETER])
    seen = []
    response = client.get(url("campaigns", workspace), {"sort": "budget"})
    assert response.context["count"].shown == "55"
    while True:
        rows = response.context["page"].rows
        seen += [(c.budget, c.name) for c in rows]
        next_url = response.context["page"].next_url
        if not next_url:
            break
        response = client.get(url("campaigns", workspace) + next_url)
    assert len(seen) == 55 and len({name for _, name in seen}) == 55
    assert [budget for budget, _ in seen] == sorted((budget for budget, _ in seen), reverse=True)
    by_name = client.get(url("campaigns", workspace), {"sort": "name"})
    assert _names(by_name)[:3] == ["C00", "C01", "C02"]


def test_the_list_reads_a_fixed_number_of_queries(client, people, workspace, django_assert_max_num_queries):
    for i in range(30):
        campaign(workspace, name=f"C{i}", owner=people[Role.MARKETER].user)
    login(client, people[Role.MARKETER])
    client.get(url("campaigns", workspace))  # the session and the like, once
    # session, user, membership, the filter form's channels and members, the page, the count
    # (on PostgreSQL the count runs under a time limit: a savepoint, SET LOCAL and its release)
    with django_assert_max_num_queries(9 if connection.vendor == "sqlite" else 12):
        response = client.get(url("campaigns", workspace), {"status": "active", "q": "C"})
    assert len(response.context["page"].rows) == 30


# --- the forms ------------------------------------------------------------------------------


def test_a_marketer_creates_a_campaign_and_a_second_send_creates_no_other(client, people, workspace):
    login(client, people[Role.MARKETER])
    form = client.get(url("campaign-new", workspace))
    token = form.context["submission"]
    data = form_data(workspace, owner=people[Role.MANAGER].user.pk, submission=token)
    first = client.post(url("campaign-new", workspace), data)
    second = client.post(url("campaign-new", workspace), data)
    with workspace_scope(workspace):
        made = Campaign.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == url("campaign", workspace, pk=made.pk)
    assert made.owner == people[Role.MANAGER].user and made.actual_cost == Decimal("1200.50")
    assert made.utm_campaign == "summit-2026" and made.end_date == dt.date(2026, 6, 30)
    page = client.get(first.url)
    assert "Summit 2026" in [str(m) for m in page.context["messages"]][0]


def test_errors_show_on_the_field_and_in_a_summary(client, people, workspace, other_workspace, member_factory):
    outsider = member_factory(other_workspace, role="marketer", email="x@globex.test").user
    login(client, people[Role.MARKETER])
    bad = form_data(workspace, name="", end_date="2026-05-01", budget="-1", owner=outsider.pk)
    response = client.post(url("campaign-new", workspace), bad)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"name", "end_date", "budget", "owner"} <= set(errors)
    assert b'id="form-errors"' in response.content and b"is-invalid" in response.content
    with workspace_scope(workspace):
        assert not Campaign.objects.exists()


def test_edit_changes_every_field_and_close_sets_the_status(client, people, workspace):
    made = campaign(workspace, name="Old", start_date=dt.date(2026, 6, 1))
    login(client, people[Role.MARKETER])
    data = form_data(workspace, name="New name", external_id="CMP-9", owner=people[Role.MARKETER].user.pk)
    with at(NOON):
        response = client.post(url("campaign-edit", workspace, pk=made.pk), data)
        assert response.status_code == 302
        made.refresh_from_db()
        assert (made.name, made.type, made.external_id, made.budget) == ("New name", "event", "CMP-9", Decimal("5000"))
        closing = client.post(url("campaign-close", workspace, pk=made.pk), follow=True)
        assert closing.context["campaign"].status == "closed"
        assert b"Campaign closed." in closing.content


def test_the_external_id_of_another_campaign_is_refused_on_the_field(client, people, workspace):
    campaign(workspace, external_id="CMP-1")
    mine = campaign(workspace)
    login(client, people[Role.MARKETER])
    response = client.post(url("campaign-edit", workspace, pk=mine.pk), form_data(workspace, external_id="CMP-1"))
    assert response.status_code == 200
    assert "external_id" in response.context["form"].errors


# --- the campaign's page ----------------------------------------------------------------------


def _reached(workspace, made):
    """Three people touched by the campaign: two first there (sourced), one captured before."""
    with workspace_scope(workspace):
        web = Channel.objects.get(slug="direct")
        first = LeadFactory(workspace=workspace, email="a@x.test", entered_at=NOON - dt.timedelta(days=30))
        second = LeadFactory(workspace=workspace, email="b@x.test", entered_at=NOON - dt.timedelta(days=30))
        earlier = LeadFactory(workspace=workspace, email="c@x.test", entered_at=NOON - dt.timedelta(days=40))
        touch_record(
            workspace=workspace, lead=earlier, channel=web, type="web_visit", occurred_at=NOON - dt.timedelta(days=40)
        )
        for lead in (first, second, earlier):
            for hours in (1, 2):
                touch_record(
                    workspace=workspace,
                    lead=lead,
                    channel=made.channel,
                    campaign=made,
                    type="webinar_attended",
                    occurred_at=NOON - dt.timedelta(days=35, hours=hours),
                )
        for lead in (first, second):
            lead.refresh_from_db()
            if lead.stage != "mql":
                lead_stage_move(workspace=workspace, lead=lead, to_stage="mql", entered_at=NOON - dt.timedelta(days=3))
        lead_reject(
            workspace=workspace, lead=first, actor=None, reason="no_budget", entered_at=NOON - dt.timedelta(days=2)
        )
    return first, second, earlier


def test_the_campaign_page_counts_reach_and_rejections(client, people, workspace):
    made = campaign(workspace, start_date=dt.date(2026, 5, 1))
    _reached(workspace, made)
    login(client, people[Role.SALES_REP])
    with at(NOON):
        response = client.get(url("campaign", workspace, pk=made.pk))
    reach = response.context["reach"]
    assert reach["touches"] == 6 and reach["people_reached"] == 3 and reach["leads_influenced"] == 3
    assert reach["handed_off"] == 2 and reach["rejected"] == 1 and reach["rejected_share"] == 0.5
    assert reach["rejected_by_reason"] == {"no_budget": {"leads": 1, "share": 0.5}}
    assert response.context["sourced_total"] == 2
    assert {lead.email for lead in response.context["sourced"]} == {"a@x.test", "b@x.test"}
    assert b"No snapshot has been computed yet" in response.content


def test_the_campaign_page_reads_a_fixed_number_of_queries(client, people, workspace, django_assert_max_num_queries):
    made = campaign(workspace, start_date=dt.date(2026, 5, 1))
    _reached(workspace, made)
    login(client, people[Role.MARKETER])
    client.get(url("campaign", workspace, pk=made.pk))
    # session, user, membership, the campaign, the snapshot, four of reach, two of leads sourced, the touches
    with django_assert_max_num_queries(12):
        response = client.get(url("campaign", workspace, pk=made.pk))
    assert response.status_code == 200
