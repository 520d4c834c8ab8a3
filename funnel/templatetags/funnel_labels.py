"""Labels of the funnel's stored identifiers that have no choices of their own on the model."""

from django import template

from funnel.stages import LostReason, RejectionReason

register = template.Library()

# A stage event's reason is a rejection's (into rejected) or a loss's (into lost, churned).
REASON_LABELS = {**dict(LostReason.choices), **dict(RejectionReason.choices)}


@register.filter
def stage_reason(reason: str) -> str:
    """``not_icp`` -> "Not our ideal customer", in the reader's language; unknown values as they are."""
    return REASON_LABELS.get(reason, reason) if reason else ""
