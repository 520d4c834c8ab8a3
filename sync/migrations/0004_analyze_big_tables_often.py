from django.db import migrations

# The big tables hold every workspace. A new workspace's first sync is a sliver of them, so
# with the default scale factor (analyze after 10% of a table changed) the planner would
# believe the workspace still empty for millions of rows, and pick a scan of the whole
# workspace for each batch's key lookups (200 ms instead of 6 ms for 1,000 touches, measured
# by bench/sync.py). Analyze after a fixed number of changed rows instead.
TABLES = ["leads_lead", "attribution_touch", "funnel_stageevent", "accounts_account", "sync_tombstone"]
SETTINGS = "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f'ALTER TABLE "{table}" SET ({SETTINGS})')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(
                f'ALTER TABLE "{table}" RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)'
            )


class Migration(migrations.Migration):
    dependencies = [("sync", "0003_idempotency_answer_as_text")]

    operations = [migrations.RunPython(forwards, backwards)]
