from django.db import transaction
from django.utils import timezone

from workspaces.scoping import ensure_same_workspace

from .choices import DEFAULT_CHANNELS
from .models import Channel, Touch


def channels_create_defaults(*, workspace) -> list[Channel]:
    """Give a workspace DESIGN.md's default channels (idempotent: existing slugs are kept)."""
    existing = set(Channel.objects.values_list("slug", flat=True))
    Channel.objects.bulk_create(
        [Channel(workspace=workspace, slug=slug, name=name) for slug, name in DEFAULT_CHANNELS if slug not in existing]
    )
    return list(Channel.objects.all())


@transaction.atomic
def touch_record(
    *, workspace, lead, channel, type: str, occurred_at=None, campaign=None, external_id: str = ""
) -> Touch:
    """Record one touch; the account is copied from the lead."""
    touch = Touch(
        workspace=workspace,
        lead=lead,
        account_id=lead.account_id,
        campaign=campaign,
        channel=channel,
        type=type,
        occurred_at=occurred_at or timezone.now(),
        external_id=external_id,
    )
    touch.full_clean(exclude=["workspace", "lead", "account", "campaign", "channel"])
    ensure_same_workspace(workspace, lead=lead, channel=channel, campaign=campaign)
    touch.save()
    return touch
