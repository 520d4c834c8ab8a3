"""The lead list's search indexes and the backfill of each lead's first touch, apart from the
columns of 0006: the backfill of a large workspace takes minutes (8 at a million leads and ten
million touches on a busy 2-core machine), and in its own migration it holds no ACCESS
EXCLUSIVE lock on the lead table meanwhile (pages keep reading leads; writes to leads wait)."""

from django.db import migrations
from django.db.models import Exists, OuterRef, Subquery

# The lead list's prefix search (email, first or last name, any case): btree indexes with the
# pattern operator classes, so ``LIKE 'ann%'`` reads a range of the index whatever the
# database's collation. PostgreSQL only (SQLite has no operator classes; its lists are small).
SEARCH_INDEXES = {
    "lead_ws_email_prefix": "(workspace_id, email varchar_pattern_ops)",
    "lead_ws_first_name_prefix": "(workspace_id, lower(first_name) text_pattern_ops)",
    "lead_ws_last_name_prefix": "(workspace_id, lower(last_name) text_pattern_ops)",
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in SEARCH_INDEXES.items():
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "leads_lead" {columns}')


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in SEARCH_INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def backfill_first_touches(apps, schema_editor):
    """Each lead's earliest touch (by time, then id), set-based. On PostgreSQL one UPDATE over
    DISTINCT ON, with the change-feed trigger off for it: the new columns are not part of what
    the feed sends, so no synced record changed."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "leads_lead" DISABLE TRIGGER "leads_lead_sync_version"')
        schema_editor.execute(
            'UPDATE "leads_lead" AS l SET first_touch_at = f.occurred_at, first_touch_campaign_id = f.campaign_id, '
            "first_touch_channel_id = f.channel_id FROM (SELECT DISTINCT ON (lead_id) lead_id, occurred_at, "
            'campaign_id, channel_id FROM "attribution_touch" ORDER BY lead_id, occurred_at, id) AS f '
            "WHERE l.id = f.lead_id"
        )
        schema_editor.execute('ALTER TABLE "leads_lead" ENABLE TRIGGER "leads_lead_sync_version"')
        return
    Lead = apps.get_model("leads", "Lead")
    Touch = apps.get_model("attribution", "Touch")
    first = Touch.objects.filter(lead_id=OuterRef("pk")).order_by("occurred_at", "id")
    Lead.objects.filter(Exists(first)).update(
        first_touch_at=Subquery(first.values("occurred_at")[:1]),
        first_touch_campaign_id=Subquery(first.values("campaign_id")[:1]),
        first_touch_channel_id=Subquery(first.values("channel_id")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("attribution", "0007_campaign_dates_in_range"),
        ("leads", "0006_lead_list_first_touch"),
        # the backfill turns the change-feed trigger off and on: it must exist first
        ("sync", "0002_sync_triggers"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
        migrations.RunPython(backfill_first_touches, migrations.RunPython.noop),
    ]
