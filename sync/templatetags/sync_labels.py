"""The records of a CSV file (``leads``), as pages name them: ``{{ job.resource|resource_label }}``."""

from django import template

from sync.forms import RESOURCE_LABELS

register = template.Library()


@register.filter
def resource_label(resource: str) -> str:
    return RESOURCE_LABELS.get(resource, resource)


@register.filter
def webhook_event_label(event: str) -> str:
    """A webhook event (``lead.handed_off``) as a page names it; an unknown one as it is."""
    from sync.models import WebhookEvent

    return WebhookEvent(event).label if event in WebhookEvent.values else event
