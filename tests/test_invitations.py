"""Invitations by email: an admin adds a member without typing a password; a new login is sent
a link (72 hours, once) to set its password."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from workspaces.models import Membership, User
from workspaces.services import membership_add

NEW_PASSWORD = "a-brand-new-pass-9"


@pytest.fixture
def admin_client(client, member_factory, workspace):
    client.force_login(member_factory(workspace, role="admin", email="boss@acme.test").user)
    return client


def invite(client, workspace, email, capture, role="sales_rep"):
    with capture(execute=True):
        response = client.post(
            reverse("members", kwargs={"workspace_slug": workspace.slug}), {"email": email, "role": role}
        )
    assert response.status_code == 302
    return response


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_an_admin_invites_and_the_link_sets_the_password_and_logs_in(
    admin_client, workspace, django_capture_on_commit_callbacks
):
    invite(admin_client, workspace, "New.Rep@Acme.test", django_capture_on_commit_callbacks)
    user = User.objects.get(email="new.rep@acme.test")
    assert not user.has_usable_password()
    assert Membership.objects.with_scopes_disabled().get(user=user).workspace == workspace
    [message] = mail.outbox
    assert message.to == ["new.rep@acme.test"]
    assert "Acme Inc" in message.subject and "boss@acme.test" in message.body and "72 hours" in message.body
    link = link_in(message)
    assert link.startswith("http://testserver/invitation/")

    admin_client.logout()
    form_page = admin_client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = admin_client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.url == reverse("workspace-switch")
    assert int(admin_client.session["_auth_user_id"]) == user.pk
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    admin_client.logout()
    again = admin_client.get(link, follow=True)
    assert not again.context["validlink"]
    assert 'id="invalid-link"' in again.content.decode()


def test_an_invitation_older_than_72_hours_is_refused(admin_client, workspace, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        invite(admin_client, workspace, "late@acme.test", django_capture_on_commit_callbacks)
        link = link_in(mail.outbox[0])
        admin_client.logout()
        clock.move_to(start + dt.timedelta(hours=71, minutes=59))
        assert admin_client.get(link, follow=True).context["validlink"]
        clock.move_to(start + dt.timedelta(hours=72, minutes=1))
        assert not admin_client.get(link, follow=True).context["validlink"]


def test_an_invitation_link_is_not_a_password_reset_link_and_back(
    admin_client, workspace, django_capture_on_commit_callbacks
):
    invite(admin_client, workspace, "new@acme.test", django_capture_on_commit_callbacks)
    invitation_path = link_in(mail.outbox[0]).removeprefix("http://testserver")
    as_reset = invitation_path.replace("/invitation/", "/password-reset/")
    admin_client.logout()
    assert not admin_client.get(as_reset, follow=True).context["validlink"]


def test_an_existing_login_is_just_added_with_no_mail(
    admin_client, workspace, other_workspace, member_factory, django_capture_on_commit_callbacks
):
    member_factory(other_workspace, role="admin", email="ceo@globex.test")
    invite(admin_client, workspace, "ceo@globex.test", django_capture_on_commit_callbacks, role="marketer")
    assert mail.outbox == []
    user = User.objects.get(email="ceo@globex.test")
    assert user.check_password("pw-for-tests-1")
    assert Membership.objects.with_scopes_disabled().filter(workspace=workspace, user=user).exists()


def test_adding_again_someone_who_never_accepted_sends_a_fresh_link(
    admin_client, workspace, django_capture_on_commit_callbacks
):
    invite(admin_client, workspace, "slow@acme.test", django_capture_on_commit_callbacks)
    invite(admin_client, workspace, "slow@acme.test", django_capture_on_commit_callbacks, role="marketer")
    assert [m.to for m in mail.outbox] == [["slow@acme.test"]] * 2


def test_the_invitation_waits_for_the_commit(workspace, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        membership_add(
            workspace=workspace, email="x@acme.test", role="marketer", invite_site_url="https://crm.example/"
        )
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert link_in(mail.outbox[0]).startswith("https://crm.example/invitation/")


def test_shell_commands_send_no_invitation(workspace, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        membership_add(workspace=workspace, email="y@acme.test", role="marketer")
    assert mail.outbox == []
