from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased; leads dedupe on this within a workspace."""
    email = (value or "").strip().lower()
    if not email:
        raise ValidationError(_("An email address is required."), code="required")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            _("'%(value)s' is not a valid email address."), code="invalid", params={"value": value}
        ) from None
    return email
