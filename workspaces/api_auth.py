"""Who is asking the API: an API key (``Authorization: Bearer <key>``) or a member's session,
and the per-caller throttle. Kept apart from ``workspaces.api`` because DRF imports these
classes from its settings while it is still loading its views."""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.throttling import SimpleRateThrottle

from .client_address import client_ip
from .models import WorkspaceAPIKey
from .signals import api_key_lockout
from .throttling import AttemptLimit

logger = logging.getLogger(__name__)

LAST_USED_EVERY = dt.timedelta(minutes=1)


def bad_key_limit() -> AttemptLimit:
    """``API_KEY_FAILURE_LIMIT`` bad keys from one address within ``LOCKOUT_WINDOW`` refuse every
    key from that address (good ones too: a guesser must not learn which guess was right) for as
    long again."""
    window = int(settings.LOCKOUT_WINDOW.total_seconds())
    return AttemptLimit("api-key", settings.API_KEY_FAILURE_LIMIT, window, window)


class AddressLockedOut(exceptions.Throttled):
    default_detail = "Too many invalid API keys from this address; requests are refused for a while."


class KeyPrincipal:
    """``request.user`` for a request made with an API key: a system, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: WorkspaceAPIKey):
        self.key = key

    def __str__(self) -> str:
        return f"API key {self.key.prefix} ({self.key.name})"


class BearerAPIKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, secret = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        address = client_ip(request)
        limit = bad_key_limit()
        locked_for = limit.locked_for(address)
        if locked_for:
            raise AddressLockedOut(wait=locked_for)
        secret = secret.strip()
        prefix, dot, _ = secret.partition(".")
        key = (
            WorkspaceAPIKey.keys.select_related("workspace").filter(prefix=prefix, revoked=False).first()
            if dot
            else None
        )
        # (not key.is_valid(): it reaches for the default manager, which here is the scoped one)
        if key is None or key.has_expired or not WorkspaceAPIKey.keys.key_generator.verify(secret, key.hashed_key):
            if limit.hit(address):
                logger.warning(
                    "API keys locked for %s minutes: address %s sent %s invalid keys",
                    limit.lock_seconds // 60,
                    address,
                    limit.limit,
                )
                api_key_lockout.send(sender=type(self), request=request._request, ip_address=address)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
            WorkspaceAPIKey.keys.filter(pk=key.pk).update(last_used_at=now)
        return KeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class WorkspaceSessionAuthentication(SessionAuthentication):
    """A logged-in member's browser session (CSRF is enforced on writes, as in DRF)."""


class PrincipalRateThrottle(SimpleRateThrottle):
    """Per API key (or per member, for sessions); the rate is ``API_THROTTLE_RATE``. Counters
    live in the shared cache (Redis in production), so every web process counts together."""

    scope = "principal"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, WorkspaceAPIKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
