"""A workspace admin unlocks their own member on the Members page: the page marks a member
locked out after failed logins, Unlock forgets that email's failures from every address (and no
one else's), and the audit trail records it. Each lock is logged as what it is: a pair's with
the pair's count, an address's with the address's (issue 9 audit, item D)."""

import datetime as dt
import logging

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from workspaces.models import AuditAction, AuditEvent, Membership
from workspaces.scoping import workspace_scope

PASSWORD = "pw-for-tests-1"


def post_login(email, password, address="10.0.0.1"):
    return Client().post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address)


def fail(email, times, address="10.0.0.1"):
    for _ in range(times):
        post_login(email, "wrong-password", address)


@pytest.fixture
def rep(member_factory, workspace):
    return member_factory(workspace, role="sales_rep", email="rep@acme.test")


@pytest.fixture
def admin_client(client, member_factory, workspace):
    client.force_login(member_factory(workspace, role="admin", email="boss@acme.test").user)
    return client


def members_page(client, workspace):
    return client.get(reverse("members", kwargs={"workspace_slug": workspace.slug}))


def locked_rows(page) -> set[str]:
    return {m.user.email for m in page.context["memberships"] if m.locked_out}


def unlock(client, workspace, membership):
    url = reverse("member-change", kwargs={"workspace_slug": workspace.slug, "membership_id": membership.pk})
    return client.post(url, {"unlock": "1"}, follow=True)


def test_the_members_page_marks_a_member_locked_out_and_offers_unlock(admin_client, workspace, rep):
    fail("rep@acme.test", 4)
    page = members_page(admin_client, workspace)
    assert locked_rows(page) == set() and 'name="unlock"' not in page.content.decode()
    fail("rep@acme.test", 1)
    page = members_page(admin_client, workspace)
    assert locked_rows(page) == {"rep@acme.test"}
    html = page.content.decode()
    assert html.count('name="unlock"') == 1 and html.count("data-locked-out") == 1


def test_failures_spread_over_addresses_or_past_the_window_do_not_mark_a_member(admin_client, workspace, rep):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail("rep@acme.test", 3, address="10.0.0.1")
        fail("rep@acme.test", 3, address="10.0.0.2")
        assert locked_rows(members_page(admin_client, workspace)) == set()
        fail("rep@acme.test", 2, address="10.0.0.1")
        assert locked_rows(members_page(admin_client, workspace)) == {"rep@acme.test"}
        clock.move_to(start + dt.timedelta(minutes=15, seconds=5))
        assert locked_rows(members_page(admin_client, workspace)) == set()


def test_unlock_lets_the_member_log_in_again_and_is_audited(admin_client, workspace, rep):
    fail("rep@acme.test", 5, address="10.0.0.1")
    fail("rep@acme.test", 5, address="10.0.0.2")
    fail("someone@else.test", 3, address="10.0.0.1")
    assert post_login("rep@acme.test", PASSWORD).status_code == 429
    page = unlock(admin_client, workspace, rep)
    assert "rep@acme.test can log in again" in " ".join(str(m) for m in page.context["messages"])
    assert locked_rows(page) == set()
    assert post_login("rep@acme.test", PASSWORD, address="10.0.0.1").status_code == 302
    assert post_login("rep@acme.test", PASSWORD, address="10.0.0.2").status_code == 302
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["someone@else.test"]
    with workspace_scope(workspace):
        [event] = AuditEvent.objects.filter(action=AuditAction.MEMBER_UNLOCKED)
    assert event.actor_user.email == "boss@acme.test"
    assert event.object_id == str(rep.user.pk) and event.payload == {"email": "rep@acme.test"}


def test_unlocking_a_member_with_nothing_to_forget_records_nothing(admin_client, workspace, rep):
    unlock(admin_client, workspace, rep)
    with workspace_scope(workspace):
        assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_UNLOCKED).exists()


@pytest.mark.parametrize("role", ["manager", "marketer", "sales_rep"])
def test_only_admins_may_unlock(client, member_factory, workspace, rep, role):
    fail("rep@acme.test", 5)
    client.force_login(member_factory(workspace, role=role).user)
    url = reverse("member-change", kwargs={"workspace_slug": workspace.slug, "membership_id": rep.pk})
    assert client.post(url, {"unlock": "1"}).status_code == 403
    assert post_login("rep@acme.test", PASSWORD).status_code == 429


def test_a_member_of_another_workspace_cannot_be_unlocked(admin_client, workspace, other_workspace, member_factory):
    theirs = member_factory(other_workspace, role="admin", email="ceo@globex.test")
    fail("ceo@globex.test", 5)
    url = reverse("member-change", kwargs={"workspace_slug": workspace.slug, "membership_id": theirs.pk})
    assert admin_client.post(url, {"unlock": "1"}).status_code == 404
    assert post_login("ceo@globex.test", PASSWORD).status_code == 429
    assert Membership.objects.with_scopes_disabled().filter(pk=theirs.pk).exists()


def _lock_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "workspaces.login_lockout"]


def test_a_pair_lock_is_logged_with_the_pairs_count(rep, caplog):
    fail("other@acme.test", 7)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="workspaces.login_lockout"):
        fail("rep@acme.test", 5)
    [line] = _lock_lines(caplog)
    assert "account 'rep@acme.test' from address 10.0.0.1" in line
    assert "(5 failures of this account from this address)" in line


def test_an_address_lock_is_logged_as_an_address_lock_with_the_addresses_count(db, caplog):
    for n in range(12):
        fail(f"u{n}@x.test", 4)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="workspaces.login_lockout"):
        fail("u12@x.test", 2)
    [line] = _lock_lines(caplog)
    assert "address 10.0.0.1, every account (50 failures from this address)" in line
    assert "u12@x.test" not in line
