"""The database cache's table (the API throttle's counters when no Redis is configured), made by
``migrate`` itself: a server started after ``migrate`` alone must not answer every API call with
"no such table: cache_table". Does nothing when the cache is Redis or the table exists."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("sync", "0004_analyze_big_tables_often")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]
