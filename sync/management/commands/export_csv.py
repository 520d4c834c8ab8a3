import sys

from django.core.management.base import BaseCommand, CommandError

from sync.csvio import export_csv
from sync.resources import RESOURCES
from sync.services import export_start
from workspaces.models import Workspace
from workspaces.scoping import workspace_scope


class Command(BaseCommand):
    help = "Write a resource's records as CSV (the interchange columns) to stdout, streamed in id order."

    def add_arguments(self, parser):
        parser.add_argument("resource", choices=sorted(RESOURCES))
        parser.add_argument("--workspace", required=True)

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug '{options['workspace']}'.")
        resource = RESOURCES[options["resource"]]
        with workspace_scope(workspace):
            export_start(workspace=workspace, resource=resource.name, via="command")
            for chunk in export_csv(resource):
                sys.stdout.write(chunk)
