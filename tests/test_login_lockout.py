"""Login throttling (django-axes): 5 failures of one (account, address) pair lock that pair,
50 from one address lock the address, 15 minutes each; bad API keys lock an address too."""

import datetime as dt
import logging

import pytest
import time_machine
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from workspaces.signals import api_key_lockout

from .api_helpers import API, make_key

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def boss(member_factory, workspace):
    return member_factory(workspace, role="admin", email="boss@acme.test").user


def post_login(client, email, password, address="10.0.0.1", **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, email, times, address="10.0.0.1", **extra):
    for _ in range(times):
        post_login(client, email, "wrong-password", address, **extra)


def test_five_failures_lock_the_pair_with_a_429_login_page_even_for_the_right_password(client, boss):
    responses = [post_login(client, "boss@acme.test", "wrong-password") for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    fifth = post_login(client, "boss@acme.test", "wrong-password")
    assert fifth.status_code == 429
    right = post_login(client, "boss@acme.test", PASSWORD)
    assert right.status_code == 429
    assert not logged_in(client)
    page = right.content.decode()
    assert 'id="login-locked"' in page and "Too many failed logins" in page and "15 minutes" in page
    assert 'name="password"' in page  # the login page itself, not a bare text


def test_the_same_account_still_logs_in_from_another_address(client, boss):
    fail(client, "boss@acme.test", 5, address="10.0.0.1")
    assert post_login(client, "boss@acme.test", PASSWORD, address="10.0.0.1").status_code == 429
    response = post_login(client, "boss@acme.test", PASSWORD, address="10.9.9.9")
    assert response.status_code == 302 and logged_in(client)


def test_the_email_is_matched_in_any_case(client, boss):
    for email in ["Boss@acme.test", "BOSS@ACME.TEST", " boss@Acme.test", "boss@acme.TEST", "bOss@acme.test"]:
        post_login(client, email, "wrong-password")
    assert post_login(client, "boss@acme.test", PASSWORD).status_code == 429


def test_fifty_failures_over_different_accounts_lock_the_address(client, boss):
    for n in range(49):
        response = post_login(client, f"guess{n}@acme.test", "wrong-password")
        assert response.status_code == 200
    assert post_login(client, "guess49@acme.test", "wrong-password").status_code == 429
    # an account never tried from here is refused from here too, and still works elsewhere
    assert post_login(client, "boss@acme.test", PASSWORD).status_code == 429
    assert not logged_in(client)
    assert post_login(client, "boss@acme.test", PASSWORD, address="10.0.0.2").status_code == 302


def test_the_lock_ends_after_fifteen_minutes(client, boss):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, "boss@acme.test", 5)
        clock.move_to(start + dt.timedelta(minutes=14))
        assert post_login(client, "boss@acme.test", PASSWORD).status_code == 429
        clock.move_to(start + dt.timedelta(minutes=15, seconds=5))
        response = post_login(client, "boss@acme.test", PASSWORD)
        assert response.status_code == 302 and logged_in(client)


def test_knocking_on_a_locked_door_neither_extends_the_lock_nor_repeats_the_signal(client, boss):
    locks = []
    user_locked_out.connect(lambda **kwargs: locks.append(kwargs), weak=False, dispatch_uid="test-locks")
    try:
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            fail(client, "boss@acme.test", 5)
            clock.move_to(start + dt.timedelta(minutes=10))
            fail(client, "boss@acme.test", 3)
            clock.move_to(start + dt.timedelta(minutes=15, seconds=5))
            assert post_login(client, "boss@acme.test", PASSWORD).status_code == 302
    finally:
        user_locked_out.disconnect(dispatch_uid="test-locks")
    assert len(locks) == 1
    assert locks[0]["username"] == "boss@acme.test" and locks[0]["ip_address"] == "10.0.0.1"
    assert locks[0]["request"].axes_credentials["username"] == "boss@acme.test"


def test_each_lockout_is_logged_with_the_address_and_the_account(client, boss, caplog):
    with caplog.at_level(logging.WARNING, logger="workspaces.login_lockout"):
        fail(client, "boss@acme.test", 5)
    [record] = [r for r in caplog.records if r.name == "workspaces.login_lockout"]
    assert "10.0.0.1" in record.getMessage() and "boss@acme.test" in record.getMessage()


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client, boss, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):  # a new forged address each time: still one client
        post_login(client, "boss@acme.test", "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert post_login(client, "boss@acme.test", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_x_forwarded_for_names_the_client_behind_one_trusted_proxy(client, boss, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "172.16.0.2"
    # what the client sent itself is left of what the proxy appended: only the last entry counts
    fail(client, "boss@acme.test", 5, address=proxy, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    locked = post_login(client, "boss@acme.test", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    # another client behind the same proxy is not locked out
    other = post_login(client, "boss@acme.test", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 302


def test_a_superuser_unlocks_in_the_admin(client, boss, member_factory, workspace):
    fail(client, "boss@acme.test", 5)
    attempt = AccessAttempt.objects.get()
    root = member_factory(workspace, role="admin", email="root@acme.test").user
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])
    admin_client = type(client)()
    admin_client.force_login(root)
    url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert post_login(client, "boss@acme.test", PASSWORD).status_code == 302


def test_a_workspace_admin_cannot_see_the_attempts_in_the_admin(client, boss):
    fail(client, "boss@acme.test", 2)
    client.force_login(boss)  # is_staff, as every workspace admin
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_the_management_command_unlocks_an_address(client, boss):
    fail(client, "boss@acme.test", 5)
    call_command("axes_reset_ip", "10.0.0.1")
    assert post_login(client, "boss@acme.test", PASSWORD).status_code == 302


# --- API keys ------------------------------------------------------------------------------


def bad_key_call(address="10.0.0.1", secret="nope.not-a-key"):  # noqa: S107
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get(f"{API}/leads/", REMOTE_ADDR=address)


def test_twenty_bad_api_keys_lock_the_address_with_a_clear_429(workspace, caplog):
    _, good = make_key(workspace)
    lockouts = []
    api_key_lockout.connect(lambda **kwargs: lockouts.append(kwargs), weak=False, dispatch_uid="test-api-lock")
    try:
        with caplog.at_level(logging.WARNING, logger="workspaces.api_auth"):
            assert {bad_key_call().status_code for _ in range(20)} == {401}
            refused = bad_key_call()
            good_refused = bad_key_call(secret=good)
    finally:
        api_key_lockout.disconnect(dispatch_uid="test-api-lock")
    assert refused.status_code == 429
    assert "Too many invalid API keys" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert good_refused.status_code == 429  # a right guess after the lock tells nothing
    assert bad_key_call(address="10.0.0.2", secret=good).status_code == 200
    assert len(lockouts) == 1 and lockouts[0]["ip_address"] == "10.0.0.1"
    assert any("10.0.0.1" in r.getMessage() for r in caplog.records if r.name == "workspaces.api_auth")


def test_the_api_key_lock_ends_after_fifteen_minutes(workspace):
    _, good = make_key(workspace)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(20):
            bad_key_call()
        clock.move_to(start + dt.timedelta(minutes=14))
        assert bad_key_call(secret=good).status_code == 429
        clock.move_to(start + dt.timedelta(minutes=15, seconds=1))
        assert bad_key_call(secret=good).status_code == 200


def test_bad_api_keys_spread_over_more_than_the_window_do_not_lock(workspace):
    _, good = make_key(workspace)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(19):
            bad_key_call()
        clock.move_to(start + dt.timedelta(minutes=16))
        for _ in range(19):
            assert bad_key_call().status_code == 401
        assert bad_key_call(secret=good).status_code == 200


def test_api_key_lock_follows_the_trusted_proxy_rule(workspace, settings):
    _, good = make_key(workspace)
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nope.nope")
    for _ in range(20):
        client.get(f"{API}/leads/", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    good_client = APIClient()
    good_client.credentials(HTTP_AUTHORIZATION=f"Bearer {good}")
    locked = good_client.get(f"{API}/leads/", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    other = good_client.get(f"{API}/leads/", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 200
