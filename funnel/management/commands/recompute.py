from django.core.management.base import BaseCommand, CommandError

from funnel.snapshots import recompute_workspace
from workspaces.models import Workspace
from workspaces.scoping import workspace_scope


class Command(BaseCommand):
    help = "Recompute a workspace's funnel and attribution snapshot now, printing the progress."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="workspace slug")

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug '{options['workspace']}'.")

        def progress(stage: str, percent: int) -> None:
            self.stdout.write(f"[{percent:3d}%] {stage}")

        with workspace_scope(workspace):
            snapshot = recompute_workspace(workspace=workspace, progress=progress)
        if snapshot is None:
            self.stdout.write("A recompute of this workspace is already running; this request was folded into it.")
            return
        counts = ", ".join(f"{name} {count:,}" for name, count in snapshot.row_counts.items())
        self.stdout.write(f"Snapshot {snapshot.pk} done in {snapshot.duration_seconds:.2f} s ({counts}).")
