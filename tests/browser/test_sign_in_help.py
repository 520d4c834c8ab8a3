"""Signing in when it goes wrong, in a real browser: a login locked after five wrong passwords
says so on the login page; a forgotten password is reset through the emailed link."""

import re

import pytest
from django.core import mail

PASSWORD = "pw-for-tests-1"
NEW_PASSWORD = "a-brand-new-pass-9"


@pytest.fixture
def boss(transactional_db, workspace, member_factory):
    return member_factory(workspace, role="admin", email="boss@acme.test").user


def try_login(page, email, password):
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_five_wrong_passwords_lock_the_login_with_a_clear_message(page, boss, screenshot):
    for _ in range(4):
        try_login(page, "boss@acme.test", "wrong-password")
        assert page.get_by_role("alert").inner_text().startswith("Please enter a correct email and password")
    try_login(page, "boss@acme.test", "wrong-password")
    locked = page.locator("#login-locked")
    assert "Too many failed logins" in locked.inner_text() and "15 minutes" in locked.inner_text()
    try_login(page, "boss@acme.test", PASSWORD)  # the right one is refused too while locked
    assert page.locator("#login-locked").is_visible()
    assert "/login/" in page.url
    screenshot("login-locked")


def test_a_forgotten_password_is_reset_through_the_emailed_link(page, boss, workspace, screenshot):
    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("boss@acme.test")
    page.get_by_role("button", name="Send the link").click()
    assert page.locator("#password-reset-done").is_visible()
    [message] = mail.outbox
    link = re.search(r"https?://\S+", message.body).group(0)

    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    screenshot("password-reset-set")
    page.get_by_role("button", name="Set the password").click()
    assert page.locator("#password-reset-complete").is_visible()

    try_login(page, "boss@acme.test", NEW_PASSWORD)
    page.wait_for_url(f"**/w/{workspace.slug}/")

    page.goto(link)  # a second use of the link
    assert page.locator("#invalid-link").is_visible()
