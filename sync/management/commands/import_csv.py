import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sync.csvio import CSVFormatError, import_rows, read_csv
from sync.resources import IMPORTABLE, RESOURCES
from workspaces.models import Workspace
from workspaces.scoping import workspace_scope


class Command(BaseCommand):
    help = (
        "Import a CSV file into a workspace through the same upsert as the bulk API: the same "
        "matching, validation and per-row report. Prints progress and the counts; exits 1 when a row "
        "was refused (the valid rows are imported all the same)."
    )

    def add_arguments(self, parser):
        parser.add_argument("resource", choices=IMPORTABLE)
        parser.add_argument("file", help="a UTF-8 CSV file whose header names the resource's columns ('-': stdin)")
        parser.add_argument("--workspace", required=True, help="the workspace's slug")

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug '{options['workspace']}'.")
        resource = RESOURCES[options["resource"]]
        if options["file"] == "-":
            content = sys.stdin.buffer.read()
        else:
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
            content = path.read_bytes()
        try:
            _, rows = read_csv(content, resource.spec)
            total = sum(1 for _ in read_csv(content, resource.spec)[1])
        except CSVFormatError as error:
            raise CommandError(str(error)) from None

        def progress(summary):
            self.stderr.write(f"  {summary.rows:,} of {total:,} rows ({100 * summary.rows // max(total, 1)}%)")

        with workspace_scope(workspace):
            summary = import_rows(workspace=workspace, resource=resource, rows=rows, progress=progress)
        counts = summary.counts
        self.stdout.write(
            f"{resource.name}: {summary.rows:,} rows: {counts['created']:,} created, {counts['updated']:,} updated, "
            f"{counts['unchanged']:,} unchanged, {counts['error']:,} refused"
        )
        for refused in summary.errors:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in refused["errors"].items())
            self.stdout.write(f"  line {refused['line']}: {problems}")
        if counts["error"] > len(summary.errors):
            self.stdout.write(f"  ... and {counts['error'] - len(summary.errors):,} more refused rows")
        if counts["error"]:
            raise SystemExit(1)
