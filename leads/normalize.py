from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased; leads dedupe on this within a workspace."""
    email = (value or "").strip().lower()
    if not email:
        raise ValidationError("An email address is required.", code="required")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(f"'{value}' is not a valid email address.", code="invalid") from None
    return email
