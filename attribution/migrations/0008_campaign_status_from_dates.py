"""A campaign's status follows its dates (docs/design.md): the stored column goes, and what it
held that the dates do not say (a campaign closed by hand before its end) becomes ``closed_at``."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import migrations, models


def _today(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date()


def closed_by_hand_to_closed_at(apps, schema_editor):
    Campaign = apps.get_model("attribution", "Campaign")
    rows = Campaign._base_manager.filter(status="closed").values_list(
        "id", "start_date", "end_date", "updated_at", "workspace__timezone"
    )
    early = [
        (pk, updated_at)
        for pk, start, end, updated_at, timezone in rows
        if start > _today(timezone) or end is None or end >= _today(timezone)
    ]
    for pk, updated_at in early:
        Campaign._base_manager.filter(pk=pk).update(closed_at=updated_at)


def closed_at_to_status(apps, schema_editor):
    Campaign = apps.get_model("attribution", "Campaign")
    for pk, start, end, closed_at, timezone in Campaign._base_manager.values_list(
        "id", "start_date", "end_date", "closed_at", "workspace__timezone"
    ):
        today = _today(timezone)
        if closed_at is not None or (end is not None and end < today):
            status = "closed"
        elif start > today:
            status = "planned"
        else:
            status = "active"
        Campaign._base_manager.filter(pk=pk).update(status=status)


class Migration(migrations.Migration):
    dependencies = [
        ("attribution", "0007_campaign_dates_in_range"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(closed_by_hand_to_closed_at, closed_at_to_status),
        migrations.RemoveField(
            model_name="campaign",
            name="status",
        ),
    ]
