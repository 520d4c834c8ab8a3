"""A channel as a page names it: ``{% load attribution_labels %}{{ channel|channel_name }}``."""

from django import template

from attribution.choices import CHANNEL_LABELS, DEFAULT_CHANNELS, CampaignStatus, CampaignType

register = template.Library()

DEFAULT_NAMES = dict(DEFAULT_CHANNELS)


@register.filter
def channel_name(channel) -> str:
    """A default channel that still has its default name, in the reader's language; a channel a
    person named (or renamed), as they named it."""
    if DEFAULT_NAMES.get(channel.slug) == channel.name:
        return str(CHANNEL_LABELS[channel.slug])
    return channel.name


@register.filter
def campaign_status(status: str) -> str:
    """``active`` -> "Active", in the reader's language (the status is computed, not a field)."""
    return str(CampaignStatus(status).label) if status in CampaignStatus.values else status


@register.filter
def campaign_type(value: str) -> str:
    return str(CampaignType(value).label) if value in CampaignType.values else value


STATUS_BADGES = {"planned": "text-bg-info", "active": "text-bg-success", "closed": "text-bg-secondary"}


@register.filter
def status_badge(status: str) -> str:
    """The badge class of a campaign status (one colour per status on every page)."""
    return STATUS_BADGES.get(status, "text-bg-light")
