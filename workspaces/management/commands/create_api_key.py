from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from workspaces.models import APIKeyScope, Workspace
from workspaces.scoping import workspace_scope
from workspaces.services import api_key_create


class Command(BaseCommand):
    help = "Make an API key for a workspace and print it (it is shown this once; only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument("--scope", choices=APIKeyScope.values, default=APIKeyScope.READ)
        parser.add_argument("--name", required=True, help="who uses it, e.g. 'Website forms'")

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug '{options['workspace']}'.")
        try:
            with workspace_scope(workspace):
                key, secret = api_key_create(workspace=workspace, name=options["name"], scope=options["scope"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(f"API key '{key.name}' ({key.get_scope_display()}) for {workspace.slug}; send it as")
        self.stderr.write("  Authorization: Bearer <key>")
        self.stdout.write(secret)
