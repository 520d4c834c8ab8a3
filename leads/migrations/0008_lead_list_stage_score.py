"""The lead list sorted by score within a stage ("MQLs by score"): without it, PostgreSQL walks
the score index through every higher-scored lead of other stages (5 s at a million leads)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_lead_list_search_and_backfill")]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("erased_at__isnull", True), ("merged_into__isnull", True)),
                fields=["workspace", "stage", "score", "id"],
                name="lead_ws_stage_score",
            ),
        ),
    ]
