"""EMAIL_URL: the console backend when embedded, SMTP from the URL in production."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import email_url_settings


def test_no_url_prints_mails_to_the_console():
    assert email_url_settings("")["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_starttls_url_with_an_encoded_password():
    result = email_url_settings("smtp+tls://mailer%40acme.test:p%40ss%2Fword@smtp.acme.test")
    assert result == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.acme.test",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer@acme.test",
        "EMAIL_HOST_PASSWORD": "p@ss/word",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
    }


@pytest.mark.parametrize(
    ("url", "port", "tls", "ssl"),
    [("smtp://relay:2525", 2525, False, False), ("smtps://u:p@smtp.example", 465, False, True)],
)
def test_plain_and_implicit_tls_urls(url, port, tls, ssl):
    result = email_url_settings(url)
    assert (result["EMAIL_PORT"], result["EMAIL_USE_TLS"], result["EMAIL_USE_SSL"]) == (port, tls, ssl)


@pytest.mark.parametrize("url", ["smtp://", "http://smtp.example", "mailgun://key@x"])
def test_a_url_that_names_no_smtp_server_stops_the_start(url):
    with pytest.raises(ImproperlyConfigured):
        email_url_settings(url)
