from django.db import migrations

from sync.triggers import install, uninstall

# The audit trail joins the change feed (the audit-events resource): its sync_version is written
# by the same trigger as every other versioned table's.
TABLES = ["workspaces_auditevent"]


def forwards(apps, schema_editor):
    install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0006_indexes_lead_with_workspace"),
        ("workspaces", "0005_audit_events"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
