import re

from django.core.exceptions import ValidationError

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domain(value: str) -> str:
    """``https://www.Acme.com/about`` and ``acme.com`` are one account: ``acme.com``."""
    domain = (value or "").strip().lower()
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain)
    domain = domain.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    domain = domain.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    if not domain:
        return ""
    if not _DOMAIN.match(domain):
        raise ValidationError(f"'{value}' is not a valid domain.", code="invalid")
    return domain
