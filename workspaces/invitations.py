"""Invitations by email: a new member sets their own password through a signed link.

The link holds a token like Django's password reset token (``PasswordResetTokenGenerator``): it
is an HMAC over the user's id, password hash and last login, so it works once (setting the
password changes the hash) and needs no table; its own salt keeps reset and invitation tokens
apart, and it lives ``INVITATION_TIMEOUT`` (72 hours) instead of the reset's timeout."""

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from .models import User, Workspace

logger = logging.getLogger(__name__)


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "workspaces.invitations.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        """Django's check, with ``INVITATION_TIMEOUT`` as the age limit."""
        if not (user and token):
            return False
        ts_b36, dash, _ = str(token).partition("-")
        if not dash:
            return False
        try:
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return self._num_seconds(self._now()) - ts <= settings.INVITATION_TIMEOUT


invitation_token_generator = InvitationTokenGenerator()


def invitation_url(*, user: User, site_url: str) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    path = reverse("invitation-accept", kwargs={"uidb64": uidb64, "token": token})
    return site_url.rstrip("/") + path


def invitation_send(*, user: User, workspace: Workspace, site_url: str, invited_by: User | None = None) -> None:
    """Email ``user`` a link to set their password, once the current transaction commits (the
    token signs the password hash the commit leaves). A mail server that fails is logged; the
    membership stands and the admin may add the person again for a fresh link."""
    transaction.on_commit(
        partial(
            _deliver,
            user_id=user.pk,
            workspace_name=workspace.name,
            site_url=site_url,
            invited_by=invited_by.email if invited_by is not None else "",
        )
    )


def _deliver(*, user_id: int, workspace_name: str, site_url: str, invited_by: str) -> None:
    user = User.objects.get(pk=user_id)
    context = {
        "email": user.email,
        "workspace_name": workspace_name,
        "invited_by": invited_by,
        "url": invitation_url(user=user, site_url=site_url),
        "valid_hours": settings.INVITATION_TIMEOUT // 3600,
    }
    subject = "".join(render_to_string("registration/invitation_subject.txt", context).splitlines())
    body = render_to_string("registration/invitation_email.txt", context)
    try:
        EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()
    except Exception:
        logger.exception("Failed to send the invitation email to user %s", user_id)
