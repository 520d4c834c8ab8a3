import argparse
import datetime as dt
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from funnel.demo.load import demo_load, workspace_data_delete, workspace_has_data
from funnel.demo.shape import demo_shape
from workspaces.management.commands.create_workspace import format_validation_error
from workspaces.models import Role, Workspace
from workspaces.services import membership_add, workspace_create

DEMO_USERS = (
    ("admin@demo.test", Role.ADMIN, "Ada Admin"),
    ("manager@demo.test", Role.MANAGER, "Max Manager"),
    ("marketer@demo.test", Role.MARKETER, "Mia Marketer"),
    ("rep1@demo.test", Role.SALES_REP, "Ray Rep"),
    ("rep2@demo.test", Role.SALES_REP, "Rita Rep"),
)
# Per demo language: the new workspace's name, currency and time zone, and the users' names.
LOCALES = {
    "en": {"name": "Demo Company", "currency": "USD", "timezone": "UTC", "people": [n for _, _, n in DEMO_USERS]},
    "zh-hans": {
        "name": "演示公司",
        "currency": "CNY",
        "timezone": "Asia/Shanghai",
        "people": ["陈静", "李强", "张敏", "王磊", "刘芳"],
    },
}


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date: use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Fill a workspace with a deterministic demo company (accounts, campaigns, leads, touches, the stage "
        "ledger, deals, contracts) and one user per role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", default="demo", help="slug; created (as 'Demo Company') when missing")
        parser.add_argument("--leads", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", type=_date, help="YYYY-MM-DD; default: the current date in UTC")
        parser.add_argument("--reset", action="store_true", help="delete the workspace's data first")
        parser.add_argument("--if-empty", action="store_true", help="leave a workspace that has data as it is")
        parser.add_argument("--password", default="funnel-demo", help="password of the demo users")
        parser.add_argument(
            "--locale",
            choices=sorted(LOCALES),
            default="en",
            help="zh-hans: Chinese companies, people, domains and cities, a CNY workspace in Asia/Shanghai",
        )

    def handle(self, *args, **options):
        if options["leads"] < 0:
            raise CommandError("--leads cannot be below zero.")
        slug = options["workspace"]
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is not None and workspace_has_data(workspace) and options["if_empty"]:
            self.stdout.write(f"Workspace '{slug}' already has data, left as it is.")
            return
        try:
            # One transaction: a seed that fails (or is interrupted) leaves the workspace as it was,
            # its old data included when --reset deleted it first.
            with transaction.atomic():
                self._seed(workspace, options)
        except ValidationError as error:
            raise CommandError(format_validation_error(error)) from None

    def _seed(self, workspace, options):
        today = options["today"] or dt.datetime.now(dt.UTC).date()
        slug = options["workspace"]
        locale = LOCALES[options["locale"]]
        if workspace is None:
            workspace = workspace_create(
                slug=slug, name=locale["name"], currency=locale["currency"], timezone=locale["timezone"]
            )
            self.stdout.write(f"Created workspace '{slug}' ({locale['name']}).")
        elif workspace_has_data(workspace):
            if not options["reset"]:
                raise CommandError(
                    f"Workspace '{slug}' already has data; pass --reset to delete it and seed again "
                    "(or --if-empty to leave it as it is)."
                )
            started = time.perf_counter()
            deleted = workspace_data_delete(workspace=workspace)
            self.stdout.write(
                f"Deleted {sum(deleted.values()):,} rows of '{slug}' in {time.perf_counter() - started:.1f} s."
            )

        members = {
            email: membership_add(
                workspace=workspace,
                email=email,
                role=role,
                password=options["password"],
                full_name=name,
                reset_password=True,
            ).user
            for (email, role, _), name in zip(DEMO_USERS, locale["people"], strict=True)
        }
        started = time.perf_counter()
        shape = demo_shape(leads=options["leads"], seed=options["seed"], today=today, locale=options["locale"])
        self.stdout.write(
            f"Generated {options['leads']:,} leads (seed {options['seed']}, today {today}) "
            f"in {time.perf_counter() - started:.1f} s; loading:"
        )

        def progress(table: str, rows: int) -> None:
            self.stdout.write(f"  {table:<20} {rows:>10,} rows  ({time.perf_counter() - started:.1f} s)")

        counts = demo_load(
            workspace=workspace,
            shape=shape,
            reps=[members["rep1@demo.test"], members["rep2@demo.test"]],
            marketer=members["marketer@demo.test"],
            progress=progress,
        )
        self.stdout.write(f"Seeded '{slug}' in {time.perf_counter() - started:.1f} s:")
        for table, rows in counts.items():
            self.stdout.write(f"  {table:<20} {rows:>10,}")
        self.stdout.write(f"Log in at /w/{slug}/ as any of (password '{options['password']}'):")
        for email, role, _ in DEMO_USERS:
            self.stdout.write(f"  {email:<22} {role}")
