"""A channel as a page names it: ``{% load attribution_labels %}{{ channel|channel_name }}``."""

from django import template

from attribution.choices import CHANNEL_LABELS, DEFAULT_CHANNELS

register = template.Library()

DEFAULT_NAMES = dict(DEFAULT_CHANNELS)


@register.filter
def channel_name(channel) -> str:
    """A default channel that still has its default name, in the reader's language; a channel a
    person named (or renamed), as they named it."""
    if DEFAULT_NAMES.get(channel.slug) == channel.name:
        return str(CHANNEL_LABELS[channel.slug])
    return channel.name
