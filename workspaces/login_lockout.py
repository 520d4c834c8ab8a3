"""Login throttling with django-axes: what this product adds to it.

* Two limits where axes knows one: ``AXES_FAILURE_LIMIT`` failures of one (account, address)
  pair lock that pair, ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address (whatever the
  accounts) lock the address. A stranger can so lock an account only from their own address,
  never for its owner elsewhere.
* Emails are matched as the login matches them (any case, spaces around), so ``Boss@X`` and
  ``boss@x`` share one counter.
* ``user_locked_out`` is sent once, when a lock starts, not again for each knock on a locked
  door; each lock is logged as a warning with the address and the account.

Unlocking: a workspace admin unlocks a member on the Members page (``member_unlock``: that
email's attempts from every address are cleared); the people who run the server delete the
attempt in the Django admin (Axes › Access attempts, superusers only) or run
``manage.py axes_reset_ip ADDRESS`` / ``axes_reset_username EMAIL`` / ``axes_reset``.
"""

import logging

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

logger = logging.getLogger(__name__)


def attempted_username(request, credentials: dict | None) -> str:
    """The email a login attempt named, normalised as ``UserManager.get_by_natural_key`` does."""
    field = settings.AXES_USERNAME_FORM_FIELD
    value = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    return str(value or "").strip().lower()[:255]


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses a login while its pair or address is locked. A call of ``authenticate()`` with no
    request (shell commands, tests) has no address to count and is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginAttemptHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The pair's recent failures, or the pair limit itself once the address has reached its
        own limit (axes compares this one number with ``AXES_FAILURE_LIMIT``)."""
        username = get_client_username(request, credentials)
        recent = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
        )
        counts = recent.aggregate(
            address=Sum("failures_since_start"),
            pair=Sum("failures_since_start", filter=Q(username=username)),
        )
        pair, address = counts["pair"] or 0, counts["address"] or 0
        request.login_failure_counts = (pair, address)  # for the lockout's log line
        if address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(pair, settings.AXES_FAILURE_LIMIT)
        return pair

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and getattr(request, "axes_locked_out", False):
            # Already locked before this attempt (the backend refused it): nothing new to
            # count, record or announce; the middleware answers 429.
            request.axes_credentials = credentials
            return
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is not None and getattr(request, "axes_locked_out", False):
            _log_lockout(request, get_client_username(request, credentials))


def _log_lockout(request, username: str) -> None:
    """One line for each lock this failure set: the pair's, with the pair's count, and the
    address's, with the address's count (over whichever accounts it tried)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    pair, address = getattr(request, "login_failure_counts", (0, 0))
    if pair >= settings.AXES_FAILURE_LIMIT:
        logger.warning(
            "Login locked for %s minutes: account %r from address %s (%s failures of this account from this address)",
            minutes,
            username,
            request.axes_ip_address,
            pair,
        )
    if address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        logger.warning(
            "Login locked for %s minutes: address %s, every account (%s failures from this address)",
            minutes,
            request.axes_ip_address,
            address,
        )


def _recent_attempts():
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)


def locked_out_usernames(usernames) -> set[str]:
    """Which of these emails are locked out now from some address: their failures from one
    address within the window (summed over the rows axes keeps per browser) have reached
    ``AXES_FAILURE_LIMIT``, as ``LoginAttemptHandler.get_failures`` counts a pair. One query."""
    pairs = (
        _recent_attempts()
        .filter(username__in=list(usernames))
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {pair["username"] for pair in pairs}


def login_attempts_clear(username: str) -> int:
    """Forget the failed logins of this email from every address (it unlocks its pairs; other
    accounts' attempts stay, so an address locked for its own failures stays locked).
    Returns how many records were cleared (axes keeps one per address and browser)."""
    _, by_model = AccessAttempt.objects.filter(username=username).delete()
    return by_model.get(AccessAttempt._meta.label, 0)
