"""Password reset by email (Django's views), throttled per address and per email; the answer
never tells whether an email has a login."""

import re

import pytest
from django.core import mail
from django.urls import reverse

PASSWORD = "pw-for-tests-1"
NEW_PASSWORD = "a-brand-new-pass-9"


@pytest.fixture
def boss(member_factory, workspace):
    return member_factory(workspace, role="admin", email="boss@acme.test").user


def ask_reset(client, email, address="10.0.0.1"):
    return client.post(reverse("password-reset"), {"email": email}, REMOTE_ADDR=address)


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_the_login_page_links_to_the_reset(client, db):
    page = client.get(reverse("login")).content.decode()
    assert reverse("password-reset") in page and "Forgot your password?" in page


def test_reset_end_to_end_sets_a_new_password_and_the_link_works_once(client, boss, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask_reset(client, "Boss@Acme.test")
    assert response.status_code == 302 and response.url == reverse("password-reset-done")
    [message] = mail.outbox
    assert message.to == ["boss@acme.test"]
    assert "password" in message.subject.lower()
    link = link_in(message)
    assert link.startswith("http://testserver/password-reset/")

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == reverse("password-reset-complete")

    boss.refresh_from_db()
    assert boss.check_password(NEW_PASSWORD)
    login = client.post(reverse("login"), {"username": "boss@acme.test", "password": NEW_PASSWORD})
    assert login.status_code == 302

    client.logout()
    again = client.get(link, follow=True)
    assert not again.context["validlink"]
    assert 'id="invalid-link"' in again.content.decode()


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, boss, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = ask_reset(client, "boss@acme.test")
        unknown = ask_reset(client, "nobody@acme.test")
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert [m.to for m in mail.outbox] == [["boss@acme.test"]]
    done = client.get(unknown.url).content.decode()
    assert "If that email has a login" in done


def test_an_invited_person_who_never_set_a_password_gets_no_reset_mail(client, workspace, db):
    from workspaces.services import membership_add

    membership_add(workspace=workspace, email="new@acme.test", role="marketer")
    ask_reset(client, "new@acme.test")
    assert mail.outbox == []


def test_reset_requests_are_limited_per_email(client, boss, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(settings.PASSWORD_RESET_EMAIL_LIMIT):
            assert ask_reset(client, "boss@acme.test", address=f"10.0.1.{n}").status_code == 302
        refused = ask_reset(client, "boss@acme.test", address="10.0.2.1")
    assert refused.status_code == 429
    assert 'id="reset-throttled"' in refused.content.decode()
    assert int(refused["Retry-After"]) <= 15 * 60
    assert len(mail.outbox) == settings.PASSWORD_RESET_EMAIL_LIMIT


def test_reset_requests_are_limited_per_address_whatever_the_emails(client, boss, settings):
    for n in range(settings.PASSWORD_RESET_ADDRESS_LIMIT):
        assert ask_reset(client, f"someone{n}@acme.test").status_code == 302
    assert ask_reset(client, "boss@acme.test").status_code == 429
    assert mail.outbox == []
    assert ask_reset(client, "boss@acme.test", address="10.0.0.2").status_code == 302


def test_a_throttled_email_looks_the_same_whether_or_not_it_has_a_login(client, boss, settings):
    for email in ["boss@acme.test", "nobody@acme.test"]:
        for n in range(settings.PASSWORD_RESET_EMAIL_LIMIT):
            ask_reset(client, email, address=f"10.3.{n}.1")
    known = ask_reset(client, "boss@acme.test", address="10.4.0.1")
    unknown = ask_reset(client, "nobody@acme.test", address="10.4.0.2")
    assert known.status_code == unknown.status_code == 429
