"""Pages of signing in that Django's auth views do not give as they are: the locked-out login
(429), password reset requests that cannot be used as a mail cannon, and accepting an
invitation."""

from functools import partial

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse_lazy

from .client_address import client_ip
from .invitations import invitation_token_generator
from .models import User
from .throttling import AttemptLimit


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked login (``AXES_LOCKOUT_CALLABLE``): the login page again,
    saying why, with 429. It names no account and does not say whether the email has a login."""
    username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_out": True, "lockout_minutes": minutes, "next": request.POST.get("next", "")},
        status=429,
    )


def reset_limits() -> tuple[AttemptLimit, AttemptLimit]:
    """Reset requests per address and per email within ``LOCKOUT_WINDOW``, then 429 for as long."""
    window = int(settings.LOCKOUT_WINDOW.total_seconds())
    return (
        AttemptLimit("reset-address", settings.PASSWORD_RESET_ADDRESS_LIMIT, window, window),
        AttemptLimit("reset-email", settings.PASSWORD_RESET_EMAIL_LIMIT, window, window),
    )


class OnCommitPasswordResetForm(PasswordResetForm):
    def send_mail(self, *args, **kwargs):
        # after the commit, as every side effect here (Django's own send_mail logs a failure)
        transaction.on_commit(partial(super().send_mail, *args, **kwargs))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, counted per address and per email (whether or not it has a
    login, so the count tells nothing either): past either limit the answer is 429 and no mail."""

    form_class = OnCommitPasswordResetForm
    success_url = reverse_lazy("password-reset-done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def post(self, request, *args, **kwargs):
        address = client_ip(request)
        email = User.objects.normalize_email(request.POST.get("email", "")).strip().lower()[:254]
        by_address, by_email = reset_limits()
        locked_for = max(by_address.locked_for(address), by_email.locked_for(email) if email else 0)
        if locked_for:
            response = render(
                request,
                "registration/password_reset_throttled.html",
                {"minutes": max(1, -(-locked_for // 60))},
                status=429,
            )
            response["Retry-After"] = str(locked_for)
            return response
        by_address.hit(address)
        if email:
            by_email.hit(email)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password-reset-complete")


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation link: a new member sets their password and is logged in. The link works
    once and for ``INVITATION_TIMEOUT``; after that the page says to ask for a new one."""

    token_generator = invitation_token_generator
    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("workspace-switch")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["valid_hours"] = settings.INVITATION_TIMEOUT // 3600
        return context
