"""The address a request comes from, one rule for every counter that locks an address (logins,
API keys, password reset requests)."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """``REMOTE_ADDR`` unless ``TRUSTED_PROXY_COUNT`` proxies stand in front of the app: then the
    address the outermost of them saw, which is that many entries from the right of
    ``X-Forwarded-For`` (each proxy appends the address it was called from; anything further left
    was sent by the client and proves nothing). A header shorter than the proxy count, or an entry
    that is no address, falls back to ``REMOTE_ADDR``."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
