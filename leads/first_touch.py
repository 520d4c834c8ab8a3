"""The lead's first touch (time, campaign, channel), kept on the lead so the lead list filters
by first-touch campaign and channel through an index instead of reading ten touches a person.

Derived data, written only here: the touch services call ``leads_first_touch_refresh`` for
every lead whose touches they wrote or moved (``attribution.services.touches_after_recording``),
and a merge calls it for the survivor. Migration ``leads.0006`` filled it for existing rows."""

from django.db import transaction
from django.db.models import OuterRef, Subquery

from .models import Lead

FIELDS = ("first_touch_at", "first_touch_campaign_id", "first_touch_channel_id")


@transaction.atomic
def leads_first_touch_refresh(*, workspace, lead_ids) -> int:
    """Recompute the first touch (earliest by time, then id) of these leads: one read, one bulk
    write of the leads whose first touch changed (each such write reaches the change feed, so
    unchanged leads are left alone). Returns how many changed."""
    from attribution.models import Touch

    ids = {pk for pk in lead_ids if pk}
    if not ids:
        return 0
    first = Touch.objects.filter(workspace=workspace, lead_id=OuterRef("pk")).order_by("occurred_at", "id")
    rows = (
        Lead.objects.filter(workspace=workspace, pk__in=ids)
        .annotate(
            new_at=Subquery(first.values("occurred_at")[:1]),
            new_campaign=Subquery(first.values("campaign_id")[:1]),
            new_channel=Subquery(first.values("channel_id")[:1]),
        )
        .values_list("pk", *FIELDS, "new_at", "new_campaign", "new_channel")
    )
    changed = [
        Lead(pk=pk, first_touch_at=at, first_touch_campaign_id=campaign, first_touch_channel_id=channel)
        for pk, *old, at, campaign, channel in rows
        if tuple(old) != (at, campaign, channel)
    ]
    Lead.objects.bulk_update(
        changed, ["first_touch_at", "first_touch_campaign", "first_touch_channel"], batch_size=1000
    )
    return len(changed)
