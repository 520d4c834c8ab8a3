"""The browser pages over HTTP: login, the switcher, and every page under /w/<slug>/ against the
role table and against members of another workspace."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from funnel.services import lead_accept, lead_stage_move
from sync.models import ImportJob, Webhook
from sync.services import webhook_create
from workspaces.models import Membership, Role, Workspace, WorkspaceAPIKey
from workspaces.permissions import role_can
from workspaces.scoping import workspace_scope
from workspaces.services import api_key_create

from .factories import LeadFactory

PASSWORD = "pw-for-tests-1"


def workspace_patterns(resolver=None, prefix=""):
    """Every URL pattern that takes a workspace slug, with its full route."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from workspace_patterns(entry, route)
        elif isinstance(entry, URLPattern) and "<slug:workspace_slug>" in route:
            yield entry, route


def page_url(pattern, workspace, membership):
    """The page's URL in ``workspace``, with a real object of that workspace for each id it takes."""
    route = str(pattern.pattern)
    kwargs = {"workspace_slug": workspace.slug}
    with workspace_scope(workspace):
        if "<int:membership_id>" in route:
            kwargs["membership_id"] = membership.pk
        if "<str:key_prefix>" in route:
            key = WorkspaceAPIKey.objects.first() or api_key_create(workspace=workspace, name="pages", scope="read")[0]
            kwargs["key_prefix"] = key.prefix
        if "<int:webhook_id>" in route:
            hook = Webhook.objects.first() or webhook_create(
                workspace=workspace, url="http://127.0.0.1:9/hook", events=["lead.accepted"]
            )
            kwargs["webhook_id"] = hook.pk
        if "<int:job_id>" in route:
            job = ImportJob.objects.first() or ImportJob.objects.create(
                workspace=workspace, resource="leads", filename="x.csv", content=b"email\n", status="done"
            )
            kwargs["job_id"] = job.pk
        if "<slug:resource>" in route:
            kwargs["resource"] = "leads"
        if "<int:pk>" in route and pattern.name.startswith("campaign"):
            from attribution.models import Campaign

            from .factories import CampaignFactory

            kwargs["pk"] = (Campaign.objects.first() or CampaignFactory(workspace=workspace)).pk
        if "<int:pk>" in route and pattern.name.startswith("scoring"):
            from leads.models import RescoreJob

            job = RescoreJob.objects.first() or RescoreJob.objects.create(workspace=workspace, previous_threshold=50)
            kwargs["pk"] = job.pk
        if "<int:pk>" in route and pattern.name.startswith("lead"):
            # owned by a sales rep when there is one: a rep changes only the leads they own
            rep = Membership.objects.filter(role=Role.SALES_REP).select_related("user").first()
            kwargs["pk"] = LeadFactory(workspace=workspace, owner=rep.user if rep else None).pk
    return reverse(pattern.name, kwargs=kwargs)


PAGES = sorted(pattern.name for pattern, _ in workspace_patterns())


@pytest.fixture
def people(member_factory, workspace):
    return {role: member_factory(workspace, role=role, email=f"{role}@acme.test") for role in Role.values}


def login(client, membership):
    assert client.login(email=membership.user.email, password=PASSWORD)
    return client


def test_every_workspace_page_is_guarded_by_the_role_table():
    assert PAGES, "no workspace pages found"
    for pattern, route in workspace_patterns():
        assert hasattr(pattern.callback, "workspace_action"), f"{route} is not a workspace_view"


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", Role.values)
def test_role_matrix_over_every_page(client, people, workspace, role, name):
    pattern = next(p for p, _ in workspace_patterns() if p.name == name)
    login(client, people[role])
    target = people[Role.MARKETER]
    response = client.get(page_url(pattern, workspace, target))
    allowed = role_can(role, pattern.callback.workspace_action)
    if not allowed:
        assert response.status_code == 403
    else:
        # A page that only takes POST answers GET with 405 once the role check let it through.
        assert response.status_code in (200, 405)


@pytest.mark.parametrize("name", PAGES)
def test_a_member_of_another_workspace_gets_404_on_every_page(client, member_factory, workspace, other_workspace, name):
    pattern = next(p for p, _ in workspace_patterns() if p.name == name)
    outsider = member_factory(other_workspace, role=Role.ADMIN, email="boss@globex.test")
    insider = member_factory(workspace, role=Role.MARKETER, email="someone@acme.test")
    login(client, outsider)
    assert client.get(page_url(pattern, workspace, insider)).status_code == 404
    assert client.post(page_url(pattern, workspace, insider), {"role": "admin"}).status_code == 404
    assert Membership.objects.with_scopes_disabled().get(pk=insider.pk).role == Role.MARKETER


def test_an_id_of_another_workspace_in_ones_own_workspace_is_404(client, member_factory, workspace, other_workspace):
    admin = member_factory(workspace, role=Role.ADMIN, email="admin@acme.test")
    theirs = member_factory(other_workspace, role=Role.MARKETER, email="someone@globex.test")
    login(client, admin)
    url = reverse("member-change", kwargs={"workspace_slug": workspace.slug, "membership_id": theirs.pk})
    assert client.post(url, {"role": "admin"}).status_code == 404
    assert client.post(url, {"remove": "1"}).status_code == 404
    assert Membership.objects.with_scopes_disabled().get(pk=theirs.pk).role == Role.MARKETER


def test_an_unknown_workspace_is_404_and_anonymous_visitors_are_sent_to_login(client, people, workspace):
    response = client.get(reverse("home", kwargs={"workspace_slug": workspace.slug}))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    login(client, people[Role.ADMIN])
    assert client.get("/w/no-such-workspace/").status_code == 404


def test_login_by_email_lands_on_the_only_workspace(client, people, workspace):
    response = client.post(reverse("login"), {"username": "Manager@ACME.test", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home", kwargs={"workspace_slug": workspace.slug})
    assert b"Leads by stage now" in response.content


def test_a_wrong_password_says_so(client, people):
    response = client.post(reverse("login"), {"username": "manager@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert b"correct email and password" in response.content


def test_the_switcher_lists_every_workspace_of_the_user(client, member_factory, workspace, other_workspace):
    first = member_factory(workspace, role=Role.ADMIN, email="both@example.test")
    member_factory(other_workspace, role=Role.MARKETER, email="both@example.test")
    member_factory(Workspace.objects.create(slug="initech", name="Initech"), email="not-me@example.test")
    login(client, first)
    response = client.get(reverse("workspace-switch"))
    assert response.status_code == 200
    assert b"Acme Inc" in response.content and b"Globex" in response.content
    assert b"Initech" not in response.content


def test_home_counts_leads_by_current_stage_and_lists_the_latest_moves(client, people, workspace):
    with workspace_scope(workspace):
        leads = LeadFactory.create_batch(3, workspace=workspace)
        lead_stage_move(workspace=workspace, lead=leads[0], to_stage="mql")
        lead_accept(workspace=workspace, lead=leads[0], actor=people[Role.SALES_REP].user)
    login(client, people[Role.MARKETER])
    response = client.get(reverse("home", kwargs={"workspace_slug": workspace.slug}))
    counts = {row["stage"]: row["count"] for row in response.context["stage_counts"]}
    assert counts["lead"] == 2
    assert counts["sal"] == 1
    assert b"sales_rep@acme.test" in response.content


def test_an_admin_adds_a_member_who_can_then_log_in(client, people, workspace):
    login(client, people[Role.ADMIN])
    url = reverse("members", kwargs={"workspace_slug": workspace.slug})
    response = client.post(url, {"email": "New.Rep@Acme.test", "role": "sales_rep", "password": "a-long-pass-1"})
    assert response.status_code == 302
    membership = Membership.objects.with_scopes_disabled().get(user__email="new.rep@acme.test")
    assert membership.workspace == workspace and membership.role == Role.SALES_REP
    client.logout()
    assert client.login(email="new.rep@acme.test", password="a-long-pass-1")


def test_adding_a_person_of_another_workspace_with_a_password_cannot_take_over_their_login(
    client, people, workspace, other_workspace, member_factory
):
    """An admin of one workspace "adding" a login that exists elsewhere must not set its password."""
    victim = member_factory(other_workspace, role=Role.ADMIN, email="ceo@globex.test").user
    login(client, people[Role.ADMIN])
    url = reverse("members", kwargs={"workspace_slug": workspace.slug})
    response = client.post(url, {"email": "ceo@globex.test", "role": "marketer", "password": "taken-over-1"})
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.check_password("pw-for-tests-1") and not victim.check_password("taken-over-1")
    assert Membership.objects.with_scopes_disabled().get(workspace=workspace, user=victim).role == Role.MARKETER


def _answer_to_adding(client, url, email: str, password: str):
    response = client.post(url, {"email": email, "role": "marketer", "password": password}, follow=True)
    said = [str(m).replace(email, "EMAIL") for m in response.context["messages"]]
    form = response.context.get("form")
    errors = form.errors.get_json_data() if form is not None and form.is_bound else {}
    return response.redirect_chain, said, errors


@pytest.mark.parametrize("password", ["a-long-pass-1", "x"], ids=["accepted", "too-short"])
def test_adding_an_address_answers_the_same_whether_or_not_it_has_a_login(
    client, people, workspace, other_workspace, member_factory, password
):
    """The Members page must not tell an admin which addresses have a login somewhere."""
    member_factory(other_workspace, role=Role.ADMIN, email="ceo@globex.test")
    login(client, people[Role.ADMIN])
    url = reverse("members", kwargs={"workspace_slug": workspace.slug})
    has_login = _answer_to_adding(client, url, "ceo@globex.test", password)
    has_none = _answer_to_adding(client, url, "newcomer@acme.test", password)
    assert has_login == has_none


def test_a_new_members_password_must_pass_the_password_rules(client, people, workspace):
    login(client, people[Role.ADMIN])
    url = reverse("members", kwargs={"workspace_slug": workspace.slug})
    response = client.post(url, {"email": "short@acme.test", "role": "marketer", "password": "x"})
    assert response.status_code == 200
    assert "too short" in " ".join(response.context["form"].errors["password"])
    assert not Membership.objects.with_scopes_disabled().filter(user__email="short@acme.test").exists()


def test_adding_a_member_with_a_malformed_email_names_the_field(client, people, workspace):
    login(client, people[Role.ADMIN])
    url = reverse("members", kwargs={"workspace_slug": workspace.slug})
    response = client.post(url, {"email": "not-an-email", "role": "sales_rep"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.context["form"].errors["email"]
    assert Membership.objects.with_scopes_disabled().filter(workspace=workspace).count() == len(Role.values)


def test_the_last_admin_can_neither_leave_nor_be_demoted(client, people, workspace):
    admin = people[Role.ADMIN]
    login(client, admin)
    url = reverse("member-change", kwargs={"workspace_slug": workspace.slug, "membership_id": admin.pk})
    response = client.post(url, {"role": "marketer"}, follow=True)
    assert "last admin" in response.content.decode()
    client.post(url, {"remove": "1"})
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    # With a second admin, the first may step down.
    client.post(
        reverse("member-change", kwargs={"workspace_slug": workspace.slug, "membership_id": people[Role.MANAGER].pk}),
        {"role": "admin"},
    )
    client.post(url, {"role": "marketer"})
    admin.refresh_from_db()
    assert admin.role == Role.MARKETER


def test_settings_are_saved_and_a_bad_value_is_named_with_nothing_saved(client, people, workspace):
    login(client, people[Role.ADMIN])
    url = reverse("workspace-settings", kwargs={"workspace_slug": workspace.slug})
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and value is not False}
    data.update(sla_hours=48, reassign_when_overdue="on", attribution_lookback_days=180, currency="eur")
    assert client.post(url, data).status_code == 302
    workspace.refresh_from_db()
    saved = (workspace.sla_hours, workspace.reassign_when_overdue, workspace.attribution_lookback_days)
    assert saved == (48, True, 180)
    assert workspace.currency == "EUR"

    response = client.post(url, {**data, "sla_hours": -3, "currency": "us1", "name": "Renamed"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"sla_hours", "currency"}
    assert "ISO 4217" in errors["currency"][0]
    workspace.refresh_from_db()
    assert (workspace.sla_hours, workspace.name) == (48, "Acme Inc")
