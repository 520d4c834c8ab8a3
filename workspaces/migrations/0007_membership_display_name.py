from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery


def names_from_the_first_workspace(apps, schema_editor):
    """A login's name was typed by the admin of the workspace that made it: its first membership
    (the lowest id) takes that name; memberships added later, by other workspaces, start with
    none, so no workspace is shown a name another one typed."""
    Membership = apps.get_model("workspaces", "Membership")
    User = apps.get_model("workspaces", "User")
    earlier = Membership.objects.filter(user=OuterRef("user"), id__lt=OuterRef("id"))
    own_name = User.objects.filter(pk=OuterRef("user")).values("full_name")[:1]
    Membership.objects.exclude(Exists(earlier)).update(display_name=Subquery(own_name))


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0006_user_email_verbose_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="display_name",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.RunPython(names_from_the_first_workspace, migrations.RunPython.noop),
    ]
