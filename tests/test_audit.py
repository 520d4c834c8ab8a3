"""The audit trail (issue 9, item 11): each kind of event written by its service in the change's
own transaction, the admins' Audit log page (permission, filters, keyset pages, query count),
the read-only ``audit-events`` API resource and its change feed, and the table being
append-only. Nothing of one workspace shows in another."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leads.services import lead_erase, lead_merge
from sync.services import export_start, webhook_create, webhook_delete
from workspaces.audit import audit_record
from workspaces.models import APIKeyScope, AuditAction, AuditEvent, Role, Workspace
from workspaces.permissions import KEY_SCOPE_ACTIONS, ROLE_ACTIONS, Action
from workspaces.scoping import workspace_scope
from workspaces.services import (
    api_key_create,
    api_key_revoke,
    membership_add,
    membership_change_role,
    membership_remove,
    workspace_settings_update,
)

from .api_helpers import API, bearer, make_key, read_feed, session_client
from .factories import LeadFactory

PASSWORD = "pw-for-tests-1"


def events(workspace, **filters) -> list[AuditEvent]:
    with workspace_scope(workspace):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def actions(workspace) -> list[str]:
    return [event.action for event in events(workspace)]


@pytest.fixture
def admin(member_factory, workspace):
    return member_factory(workspace, role=Role.ADMIN, email="boss@acme.test")


@pytest.fixture
def fresh(workspace, admin):
    """The workspace with the events of its setup (the admin's membership) set aside: each
    test counts only what it did. (They stay in the table: nothing can delete them.)"""
    with workspace_scope(workspace):
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return last


def since(workspace, last_id: int, **filters) -> list[AuditEvent]:
    return events(workspace, id__gt=last_id, **filters)


# --- each kind of event, by its service -----------------------------------------------------------


def test_adding_a_member_changing_their_role_and_removing_them_are_recorded(workspace, admin, fresh):
    actor = admin.user
    with workspace_scope(workspace):
        membership = membership_add(workspace=workspace, email="New@Acme.test", role=Role.MARKETER, actor=actor)
        membership_change_role(membership=membership, role=Role.MARKETER, actor=actor)  # no change: no event
        membership = membership_change_role(membership=membership, role=Role.MANAGER, actor=actor)
        membership_remove(membership=membership, actor=actor)
    added, changed, removed = since(workspace, fresh)
    user_id = str(membership.user_id)
    assert (added.action, added.object_type, added.object_id) == (AuditAction.MEMBER_ADDED, "member", user_id)
    assert added.payload == {"email": "new@acme.test", "role": "marketer"}
    assert changed.action == AuditAction.MEMBER_ROLE_CHANGED
    assert changed.payload == {"email": "new@acme.test", "changes": {"role": ["marketer", "manager"]}}
    assert removed.action == AuditAction.MEMBER_REMOVED
    assert removed.payload == {"email": "new@acme.test", "role": "manager"}
    for event in (added, changed, removed):
        assert (event.actor_type, event.actor_user_id, event.actor_label) == ("user", actor.pk, "boss@acme.test")


def test_api_keys_made_and_revoked_are_recorded_once(workspace, admin, fresh):
    with workspace_scope(workspace):
        key, _ = api_key_create(workspace=workspace, name="Warehouse", scope="read", actor=admin.user)
        api_key_revoke(workspace=workspace, key=key, actor=admin.user)
        api_key_revoke(workspace=workspace, key=key, actor=admin.user)  # already revoked: nothing new
    made, revoked = since(workspace, fresh)
    assert (made.action, made.object_type, made.object_id) == (AuditAction.API_KEY_CREATED, "api_key", key.prefix)
    assert made.payload == {"name": "Warehouse", "scope": "read"}
    assert revoked.action == AuditAction.API_KEY_REVOKED
    assert key.hashed_key not in json.dumps(made.payload) + json.dumps(revoked.payload)


def test_webhooks_added_and_removed_are_recorded(settings, workspace, admin, fresh):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    with workspace_scope(workspace):
        hook = webhook_create(
            workspace=workspace, url="http://127.0.0.1:9/hook", events=["lead.accepted"], actor=admin.user
        )
        hook_id = hook.pk
        webhook_delete(workspace=workspace, webhook=hook, actor=admin.user)
    added, removed = since(workspace, fresh)
    assert (added.action, removed.action) == (AuditAction.WEBHOOK_CREATED, AuditAction.WEBHOOK_DELETED)
    assert added.object_id == removed.object_id == str(hook_id)
    assert removed.payload == {"url": "http://127.0.0.1:9/hook", "events": ["lead.accepted"]}
    assert "secret" not in json.dumps(added.payload)


def test_changed_settings_are_recorded_before_and_after_and_an_unchanged_save_is_not(workspace, admin, fresh):
    with workspace_scope(workspace):
        workspace_settings_update(
            workspace=workspace, values={"sla_hours": 48, "name": workspace.name}, actor=admin.user
        )
        workspace_settings_update(workspace=workspace, values={"sla_hours": 48}, actor=admin.user)
    (changed,) = since(workspace, fresh)
    assert changed.action == AuditAction.SETTINGS_CHANGED
    assert changed.payload == {"changes": {"sla_hours": [24, 48]}}
    assert Workspace.objects.get(pk=workspace.pk).sla_hours == 48


def test_merges_and_erasures_are_recorded_without_the_persons_data(workspace, admin, fresh):
    with workspace_scope(workspace):
        keep = LeadFactory(workspace=workspace, email="keep@person.test", external_id="K-1")
        gone = LeadFactory(workspace=workspace, email="gone@person.test", external_id="G-1")
        lead_merge(workspace=workspace, survivor=keep, loser=gone, actor=admin.user)
        lead_erase(workspace=workspace, lead=keep, actor=admin.user)
    merged, erased = since(workspace, fresh, action__startswith="lead.")
    assert (merged.action, merged.object_id) == (AuditAction.LEAD_MERGED, str(keep.pk))
    assert merged.payload["survivor"] == {"id": keep.pk, "external_id": "K-1"}
    assert merged.payload["loser"] == {"id": gone.pk, "external_id": "G-1"}
    assert (erased.action, erased.object_id, erased.payload) == (
        AuditAction.LEAD_ERASED,
        str(keep.pk),
        {"external_id": "K-1"},
    )
    text = json.dumps([merged.payload, erased.payload])
    assert "person.test" not in text and "Pat" not in text


def test_an_export_is_recorded_from_the_browser_the_api_and_the_command(client, workspace, admin, fresh):
    client.force_login(admin.user)
    assert client.get(reverse("export", args=[workspace.slug, "leads"])).status_code == 200
    _, secret = make_key(workspace, scope="read", name="Warehouse")
    assert bearer(secret).get(f"{API}/accounts/export/", {"domain": "x.test"}).status_code == 200
    call_command("export_csv", "campaigns", workspace=workspace.slug, stdout=io.StringIO())
    browser, api, command = since(workspace, fresh, action=AuditAction.EXPORT_STARTED)
    assert (browser.object_id, browser.payload["via"], browser.actor_label) == ("leads", "browser", "boss@acme.test")
    assert (api.object_id, api.payload["via"], api.actor_type) == ("accounts", "api", "api_key")
    assert api.actor_label.startswith("Warehouse (") and api.payload["filters"] == {"domain": "x.test"}
    assert (command.object_id, command.payload["via"], command.actor_type) == ("campaigns", "command", "system")
    assert browser.ip_address == api.ip_address == "127.0.0.1"


def test_an_erase_over_the_api_names_the_key_that_did_it(workspace, fresh):
    key, secret = make_key(workspace, scope="read_write", name="CRM sync")
    with workspace_scope(workspace):
        lead = LeadFactory(workspace=workspace)
    assert bearer(secret).delete(f"{API}/leads/{lead.pk}/").status_code == 204
    (erased,) = since(workspace, fresh, action=AuditAction.LEAD_ERASED)
    assert (erased.actor_type, erased.actor_key_id, erased.actor_label) == (
        "api_key",
        key.pk,
        f"CRM sync ({key.prefix})",
    )


def _change(kind, workspace, admin):
    """One change of each audited kind, made through its service."""
    actor = admin.user
    if kind == "member":
        membership_add(workspace=workspace, email="x@acme.test", role=Role.MARKETER, actor=actor)
    elif kind == "role":
        other = membership_add(workspace=workspace, email="y@acme.test", role=Role.MARKETER)
        membership_change_role(membership=other, role=Role.MANAGER, actor=actor)
    elif kind == "api_key":
        api_key_create(workspace=workspace, name="k", scope="read", actor=actor)
    elif kind == "webhook":
        webhook_create(workspace=workspace, url="http://127.0.0.1:9/h", events=["lead.accepted"], actor=actor)
    elif kind == "settings":
        workspace_settings_update(workspace=workspace, values={"sla_hours": 12}, actor=actor)
    elif kind == "export":
        export_start(workspace=workspace, resource="leads", via="browser", actor=actor)
    elif kind == "merge":
        keep, gone = LeadFactory(workspace=workspace), LeadFactory(workspace=workspace)
        lead_merge(workspace=workspace, survivor=keep, loser=gone, actor=actor)
    elif kind == "erase":
        lead_erase(workspace=workspace, lead=LeadFactory(workspace=workspace), actor=actor)


KINDS = ["member", "role", "api_key", "webhook", "settings", "export", "merge", "erase"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_that_rolls_back_leaves_no_event_and_one_that_commits_leaves_its_event(
    settings, kind, workspace, admin, fresh
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True

    class Abandoned(Exception):
        pass

    with workspace_scope(workspace):
        with pytest.raises(Abandoned), transaction.atomic():
            _change(kind, workspace, admin)
            assert since(workspace, fresh), "the service wrote its event in the change's transaction"
            raise Abandoned
        assert since(workspace, fresh) == []
        _change(kind, workspace, admin)
    assert since(workspace, fresh)


def test_settings_that_fail_validation_change_nothing_and_record_nothing(workspace, admin, fresh):
    with workspace_scope(workspace), pytest.raises(Exception, match="sla_hours"):
        workspace_settings_update(workspace=workspace, values={"sla_hours": 0}, actor=admin.user)
    assert since(workspace, fresh) == []
    assert Workspace.objects.get(pk=workspace.pk).sla_hours == 24


def test_the_settings_service_knows_every_field_of_the_settings_form():
    from workspaces.forms import WorkspaceSettingsForm
    from workspaces.services import SETTINGS_FIELDS

    assert set(WorkspaceSettingsForm._meta.fields) == set(SETTINGS_FIELDS)


# --- logins and lockouts ----------------------------------------------------------------------------


def test_a_login_is_recorded_in_every_workspace_of_the_person_and_no_other(
    client, member_factory, workspace, other_workspace
):
    boss = member_factory(workspace, role=Role.ADMIN, email="boss@acme.test")
    with workspace_scope(other_workspace):
        membership_add(workspace=other_workspace, email="boss@acme.test", role=Role.SALES_REP)
    third = Workspace.objects.create(slug="initech", name="Initech")
    response = client.post(reverse("login"), {"username": "BOSS@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    for ws in (workspace, other_workspace):
        (login,) = events(ws, action=AuditAction.LOGIN)
        assert (login.actor_user_id, login.object_id, login.ip_address) == (
            boss.user_id,
            str(boss.user_id),
            "127.0.0.1",
        )
    assert events(third) == []


def test_a_login_lockout_is_recorded_for_the_person_whose_email_was_tried_only(
    client, member_factory, workspace, other_workspace
):
    member_factory(workspace, role=Role.SALES_REP, email="rep@acme.test")
    member_factory(other_workspace, role=Role.ADMIN, email="boss@globex.test")
    answers = [
        client.post(reverse("login"), {"username": "rep@acme.test", "password": "wrong"}).status_code for _ in range(6)
    ]
    assert answers[-1] == 429
    (locked,) = events(workspace, action=AuditAction.LOGIN_LOCKED)
    assert (locked.actor_type, locked.object_type, locked.ip_address) == ("system", "user", "127.0.0.1")
    assert events(other_workspace, action=AuditAction.LOGIN_LOCKED) == []
    # an address with no login behind it: nobody to tell, nothing recorded anywhere
    for _ in range(6):
        client.post(reverse("login"), {"username": "nobody@acme.test", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    assert AuditEvent.objects.with_scopes_disabled().filter(action=AuditAction.LOGIN_LOCKED).count() == 1


def test_an_api_key_lockout_is_recorded_in_the_workspace_of_the_key_that_was_guessed(
    settings, workspace, other_workspace
):
    key, secret = make_key(workspace, scope="read", name="Warehouse")
    make_key(other_workspace)
    guess = bearer(f"{key.prefix}.not-the-secret")
    answers = [guess.get(f"{API}/leads/").status_code for _ in range(settings.API_KEY_FAILURE_LIMIT + 1)]
    assert answers[-1] == 429
    (locked,) = events(workspace, action=AuditAction.API_KEY_LOCKED)
    assert (locked.object_id, locked.actor_type, locked.ip_address) == (key.prefix, "system", "127.0.0.1")
    assert events(other_workspace, action=AuditAction.API_KEY_LOCKED) == []


# --- the Audit log page ---------------------------------------------------------------------------


def _url(workspace, **params) -> str:
    from urllib.parse import urlencode

    return reverse("audit-log", args=[workspace.slug]) + (f"?{urlencode(params)}" if params else "")


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.MANAGER, 403), (Role.MARKETER, 403), (Role.SALES_REP, 403)],
)
def test_only_admins_may_open_the_audit_log(client, member_factory, workspace, role, status):
    client.force_login(member_factory(workspace, role=role, email=f"{role}@acme.test").user)
    assert client.get(_url(workspace)).status_code == status


def test_a_non_member_gets_404_and_the_link_shows_to_admins_only(client, member_factory, workspace, other_workspace):
    client.force_login(member_factory(other_workspace, role=Role.ADMIN, email="boss@globex.test").user)
    assert client.get(_url(workspace)).status_code == 404
    home = client.get(reverse("home", args=[other_workspace.slug])).content.decode()
    assert _url(other_workspace) in home
    client.force_login(member_factory(workspace, role=Role.MANAGER, email="manager@acme.test").user)
    assert _url(workspace) not in client.get(reverse("home", args=[workspace.slug])).content.decode()


def test_the_page_lists_this_workspaces_events_newest_first_and_no_other_workspaces(
    client, member_factory, workspace, other_workspace, admin
):
    with workspace_scope(other_workspace):
        membership_add(workspace=other_workspace, email="secret.person@globex.test", role=Role.ADMIN)
    with workspace_scope(workspace):
        api_key_create(workspace=workspace, name="Warehouse", scope="read", actor=admin.user)
        membership_add(workspace=workspace, email="later@acme.test", role=Role.MARKETER, actor=admin.user)
    client.force_login(admin.user)
    page = client.get(_url(workspace)).content.decode()
    assert "secret.person@globex.test" not in page and "globex" not in page.lower()
    assert page.index("later@acme.test") < page.index("Warehouse")  # newest first
    assert "API key made" in page and "Member added" in page


def test_filters_by_action_actor_object_and_day(client, workspace, admin):
    with workspace_scope(workspace):
        key, _ = api_key_create(workspace=workspace, name="Warehouse", scope="read", actor=admin.user)
        membership_add(workspace=workspace, email="m@acme.test", role=Role.MARKETER)  # by the system
        audit_record(
            workspace=workspace, action=AuditAction.EXPORT_STARTED, actor=key, object_type="export", object_id="old"
        )
    # an event of last year (the services stamp now; a row may be given its time)
    with workspace_scope(workspace):
        last_year = AuditEvent(
            workspace=workspace,
            action=AuditAction.EXPORT_STARTED,
            object_type="export",
            object_id="last-year",
            created_at=timezone.now() - dt.timedelta(days=365),
        )
        last_year.save()
    client.force_login(admin.user)

    def shown(**params) -> set[str]:
        response = client.get(_url(workspace, **params))
        assert response.status_code == 200
        return {row["action"] + ":" + row["object"] for row in _rows(response.content.decode())}

    assert shown(action=AuditAction.API_KEY_CREATED) == {f"api_key.created:{key.prefix}"}
    assert shown(actor=f"api_key:{key.prefix}") == {"export.started:old"}
    # the admin's key, and their logging in to look
    assert shown(actor=f"user:{admin.user_id}") == {f"api_key.created:{key.prefix}", f"user.login:{admin.user_id}"}
    assert {row.split(":")[0] for row in shown(actor="system")} == {"member.added", "export.started"}
    assert shown(object_type="export") == {"export.started:old", "export.started:last-year"}
    today = timezone.localdate()
    assert "export.started:last-year" not in shown(date_from=today.isoformat())
    year_ago = (today - dt.timedelta(days=365)).isoformat()
    assert shown(object_type="export", date_from=year_ago, date_to=year_ago) == {"export.started:last-year"}


def _rows(html: str) -> list[dict]:
    """(action, object id) of each row of the table, read from the page's markup."""
    import re

    rows = []
    for match in re.finditer(r'<tr data-action="([^"]+)">(.*?)</tr>', html, re.S):
        object_id = re.search(r"<code>([^<]*)</code>", match.group(2))
        rows.append({"action": match.group(1), "object": object_id.group(1) if object_id else ""})
    return rows


def test_a_bad_filter_is_named_on_its_field_and_nothing_breaks(client, workspace, admin):
    client.force_login(admin.user)
    response = client.get(_url(workspace, date_from="2026-05-02", date_to="2026-05-01", cursor="%%%"))
    assert response.status_code == 200
    assert "The last day comes before the first." in response.content.decode()
    assert client.get(_url(workspace, actor="user:nobody", action="no.such")).status_code == 200


def test_the_empty_states_say_why(client, member_factory, workspace, admin):
    client.force_login(admin.user)
    assert 'id="audit-empty"' not in client.get(_url(workspace)).content.decode()  # the admin's own joining
    page = client.get(_url(workspace, action=AuditAction.LEAD_ERASED)).content.decode()
    assert "No events match these filters." in page


def test_older_pages_follow_by_keyset_with_every_event_once(client, workspace, admin):
    with workspace_scope(workspace):
        now = timezone.now()
        for i in range(120):
            # many share one instant: the keyset's id breaks the tie
            AuditEvent(
                workspace=workspace,
                action=AuditAction.EXPORT_STARTED,
                object_type="export",
                object_id=f"e{i:03d}",
                created_at=now - dt.timedelta(minutes=i // 7),
            ).save()
    client.force_login(admin.user)
    seen, url, pages = [], _url(workspace, object_type="export"), 0
    while url:
        response = client.get(url)
        html = response.content.decode()
        seen += [row["object"] for row in _rows(html)]
        pages += 1
        older = response.context["older"]
        url = _url(workspace) + older if older else None
        if older:
            assert "object_type=export" in older
    assert pages == 3
    # newest first; among events of one instant, the later written first
    assert seen == [f"e{i:03d}" for i in sorted(range(120), key=lambda i: (i // 7, -i))]


def test_the_page_costs_the_same_queries_for_few_or_many_events(
    client, workspace, admin, django_assert_max_num_queries
):
    client.force_login(admin.user)
    client.get(_url(workspace))  # the session is warm
    with workspace_scope(workspace):
        for i in range(60):
            api_key_create(workspace=workspace, name=f"k{i}", scope="read", actor=admin.user)
    with django_assert_max_num_queries(6):
        response = client.get(_url(workspace))
    assert len(_rows(response.content.decode())) == 50
    with django_assert_max_num_queries(6):
        client.get(_url(workspace, action=AuditAction.API_KEY_CREATED, actor=f"user:{admin.user_id}"))


# --- the audit-events API resource ---------------------------------------------------------------


# PostgreSQL's feed hides what the reader's own open transaction wrote: commit as production does.
@pytest.mark.django_db(transaction=True)
def test_a_read_key_reads_the_trail_as_a_change_feed_and_only_what_is_new_after_its_cursor(
    workspace, other_workspace, admin
):
    with workspace_scope(other_workspace):
        membership_add(workspace=other_workspace, email="secret.person@globex.test", role=Role.ADMIN)
    key, secret = make_key(workspace, scope="read", name="Warehouse")
    api = bearer(secret)
    records, tombstones, cursor, _ = read_feed(api, "audit-events", page_size=1)
    assert tombstones == []
    assert [r["action"] for r in records] == ["member.added", "api_key.created"]
    assert "secret.person" not in json.dumps(records)
    first = records[0]
    assert set(first) == {
        "id",
        "action",
        "actor_type",
        "actor",
        "object_type",
        "object_id",
        "payload",
        "ip_address",
        "created_at",
    }
    assert first["payload"] == {"email": "boss@acme.test", "role": "admin"}  # JSON, not text
    with workspace_scope(workspace):
        membership_add(workspace=workspace, email="new@acme.test", role=Role.MARKETER, actor=admin.user)
    newer, _, _, _ = read_feed(api, "audit-events", cursor=cursor)
    assert [(r["action"], r["payload"]["email"], r["actor"]) for r in newer] == [
        ("member.added", "new@acme.test", "boss@acme.test")
    ]
    assert api.get(f"{API}/audit-events/{first['id']}/").json() == first
    with workspace_scope(other_workspace):
        foreign = AuditEvent.objects.first()
    assert api.get(f"{API}/audit-events/{foreign.pk}/").status_code == 404
    filtered = api.get(f"{API}/audit-events/", {"action": "api_key.created"}).json()["results"]
    assert [r["object_id"] for r in filtered] == [key.prefix]


def test_the_api_resource_is_for_admins_and_read_keys_and_takes_no_writes(workspace, member_factory, admin):
    _, read_secret = make_key(workspace, scope="read")
    _, write_secret = make_key(workspace, scope="read_write")
    assert bearer(read_secret).get(f"{API}/audit-events/").status_code == 200
    assert bearer(write_secret).get(f"{API}/audit-events/").status_code == 403
    assert session_client(admin).get(f"{API}/audit-events/").status_code == 200
    for role in (Role.MANAGER, Role.MARKETER, Role.SALES_REP):
        member = member_factory(workspace, role=role, email=f"{role}@acme.test")
        assert session_client(member).get(f"{API}/audit-events/").status_code == 403
        assert session_client(member).get(f"{API}/audit-events/export/").status_code == 403
    reader = bearer(read_secret)
    assert reader.post(f"{API}/audit-events/", {}, format="json").status_code in (403, 405)
    assert bearer(write_secret).post(f"{API}/audit-events/bulk/", {"records": []}, format="json").status_code in (
        403,
        404,
        405,
    )
    with workspace_scope(workspace):
        event_id = AuditEvent.objects.first().pk
    assert bearer(write_secret).delete(f"{API}/audit-events/{event_id}/").status_code in (403, 405)
    assert len(events(workspace)) >= 1


def test_the_csv_export_carries_the_payload_as_json(workspace, admin):
    _, secret = make_key(workspace, scope="read")
    response = bearer(secret).get(f"{API}/audit-events/export/")
    assert response.status_code == 200
    import csv

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    added = next(r for r in rows if r["action"] == "member.added")
    assert json.loads(added["payload"]) == {"email": "boss@acme.test", "role": "admin"}


def test_a_manager_cannot_export_the_trail_from_the_browser_and_does_not_see_it_offered(
    client, member_factory, workspace
):
    manager = member_factory(workspace, role=Role.MANAGER, email="manager@acme.test")
    client.force_login(manager.user)
    assert client.get(reverse("export", args=[workspace.slug, "audit_events"])).status_code == 403
    assert "audit_events.csv" not in client.get(reverse("data", args=[workspace.slug])).content.decode()


def test_whoever_may_read_the_trail_may_also_export():
    holders = [role for role, allowed in ROLE_ACTIONS.items() if Action.VIEW_AUDIT_LOG in allowed]
    assert holders == [Role.ADMIN]
    scopes = [scope for scope, allowed in KEY_SCOPE_ACTIONS.items() if Action.VIEW_AUDIT_LOG in allowed]
    assert scopes == [APIKeyScope.READ]
    assert all(Action.EXPORT_DATA in ROLE_ACTIONS[role] for role in holders)
    assert all(Action.EXPORT_DATA in KEY_SCOPE_ACTIONS[scope] for scope in scopes)


# --- append-only -----------------------------------------------------------------------------------


def test_the_trail_is_append_only(workspace, admin):
    with workspace_scope(workspace):
        event = AuditEvent.objects.first()
        event.action = "user.login"
        with pytest.raises(TypeError, match="append-only"):
            event.save()
        with pytest.raises(TypeError, match="append-only"):
            event.delete()
        with pytest.raises(TypeError, match="append-only"):
            AuditEvent.objects.filter(pk=event.pk).update(action="user.login")
        with pytest.raises(TypeError, match="append-only"):
            AuditEvent.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.with_scopes_disabled().all().delete()
    assert events(workspace)[0].action == AuditAction.MEMBER_ADDED


def test_the_change_feeds_version_is_written_by_the_database(workspace, admin):
    with workspace_scope(workspace):
        versions = list(AuditEvent.objects.values_list("sync_version", flat=True))
    assert versions and all(version > 0 for version in versions)


def test_a_change_made_outside_any_request_is_the_systems(workspace, admin):
    # the admin's own joining, by the factory (as the shell commands add people)
    (first,) = events(workspace)
    assert (first.action, first.actor_type, first.actor_label, first.ip_address) == (
        AuditAction.MEMBER_ADDED,
        "system",
        "",
        None,
    )
