"""Where a webhook may be sent: only to globally routable addresses, checked when the webhook is
registered and again at every delivery, and each delivery goes to the very address it checked.

Resolving the name once and connecting to what was checked closes the DNS-rebinding gap (a name
that answers a public address to the check and a private one to the connection a moment later).
The name is kept for the ``Host`` header, TLS SNI and the certificate check, so receivers behind
virtual hosts and HTTPS work as before.
"""

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address stands for (IPv4-mapped, 6to4, NAT64, Teredo), where a
    packet actually ends up; None for a plain IPv6 address."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if ip in NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return None


def _routable(ip: IPAddress) -> bool:
    # is_global alone lets through multicast, and (before Python 3.13) site-local fec0::/10
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)


def address_is_public(ip: IPAddress) -> bool:
    """Globally routable, judged by where the packet goes: an address that wraps an IPv4 one is
    judged by the IPv4 addresses inside it (so ``2002:a9fe:a9fe::``, 6to4 of 169.254.169.254, is
    refused, and ``::ffff:8.8.8.8`` is allowed)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return all(_routable(inner) for inner in embedded)
    return _routable(ip)


def resolve_checked(url: str) -> str | None:
    """Check a webhook URL and return the address to connect to: every address its host resolves
    to must be public (outside ``WEBHOOK_ALLOW_PRIVATE_HOSTS``). Returns None when private hosts
    are allowed (local receivers in development: the name is then left to the HTTP client)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": _("'%(url)s' is not an http or https URL.") % {"url": url}})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError({"url": _("'%(url)s' has no valid port.") % {"url": url}}) from None
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError({"url": _("The host '%(host)s' does not resolve.") % {"host": parts.hostname}}) from None
    addresses = list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    if not addresses:
        raise ValidationError({"url": _("The host '%(host)s' does not resolve.") % {"host": parts.hostname}})
    for address in addresses:
        if not address_is_public(ipaddress.ip_address(address)):
            raise ValidationError(
                {
                    "url": _("'%(host)s' resolves to a private address (%(address)s); use a public URL.")
                    % {"host": parts.hostname, "address": address}
                }
            )
    return addresses[0]


class _PinnedAddressAdapter(HTTPAdapter):
    """Connects to the URL's (checked) address while TLS names and verifies the original host."""

    def __init__(self, hostname: str):
        self.hostname = hostname
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self.hostname
        return host_params, pool_kwargs


def post_checked(url: str, *, data: bytes, headers: dict, timeout: float) -> requests.Response:
    """POST to a webhook URL after checking it, to the address that was checked; no redirects,
    no proxies from the environment (a proxy would resolve the name again)."""
    address = resolve_checked(url)
    if address is None:
        return requests.post(url, data=data, headers=headers, timeout=timeout, allow_redirects=False)
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    if parts.port:
        host = f"{host}:{parts.port}"
    pinned = urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))
    auth = (parts.username, parts.password or "") if parts.username else None
    headers = {**headers, "Host": parts.netloc.rpartition("@")[2]}
    with requests.Session() as session:
        session.trust_env = False
        session.mount(f"{parts.scheme}://", _PinnedAddressAdapter(parts.hostname))
        return session.post(pinned, data=data, headers=headers, timeout=timeout, allow_redirects=False, auth=auth)
