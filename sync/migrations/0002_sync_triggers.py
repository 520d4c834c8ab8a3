from django.db import migrations

from sync.triggers import install, uninstall

TABLES = [
    "accounts_account",
    "leads_lead",
    "attribution_campaign",
    "attribution_touch",
    "funnel_opportunity",
    "funnel_contract",
    "funnel_stageevent",
    "sync_tombstone",
]

# A lead's capture time is its first entry into stage lead, from the ledger.
BACKFILL_CAPTURED_AT = """
UPDATE leads_lead SET captured_at = (
    SELECT MIN(e.entered_at) FROM funnel_stageevent e
    WHERE e.workspace_id = leads_lead.workspace_id AND e.lead_id = leads_lead.id AND e.stage = 'lead'
) WHERE captured_at IS NULL
"""


def forwards(apps, schema_editor):
    schema_editor.execute(BACKFILL_CAPTURED_AT)
    install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0001_initial"),
        ("accounts", "0003_sync_versions"),
        ("leads", "0003_merge_erase_capture_sync"),
        ("attribution", "0003_sync_versions"),
        ("funnel", "0003_sync_versions"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
