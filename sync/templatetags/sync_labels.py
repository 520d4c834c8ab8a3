"""The records of a CSV file (``leads``), as pages name them: ``{{ job.resource|resource_label }}``."""

from django import template

from sync.forms import RESOURCE_LABELS

register = template.Library()


@register.filter
def resource_label(resource: str) -> str:
    return RESOURCE_LABELS.get(resource, resource)
