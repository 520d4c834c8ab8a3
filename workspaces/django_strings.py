"""Django's own messages that our pages show but Django's bundled ``zh_Hans`` catalog does not
translate: Django 5.2 changed their msgid and its catalog still has the old one. Marked here only
so that ``makemessages`` keeps them in our catalog (locale/, which Django reads before its own)
and ``tests/test_i18n.py`` holds them to a translation. Nothing imports this module; the strings
must stay byte for byte Django's (django/contrib/auth/password_validation.py). Check again on a
Django upgrade: ``tests/test_i18n_pages.py`` renders each on a page in Chinese."""

from django.utils.translation import ngettext_lazy

DJANGO_MESSAGES = (
    # MinimumLengthValidator.get_error_message (Django 5.2 uses %d; its zh_Hans catalog has
    # %(min_length)d): members add, password change, invitation accept, password reset confirm
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
)
