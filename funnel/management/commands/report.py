import argparse
import csv
import datetime as dt
import json
import math

from django.core.management.base import BaseCommand, CommandError

from attribution.rules import MODELS
from funnel.engine import LEVELS
from funnel.reports import (
    ATTRIBUTION_COLUMNS,
    BREAKDOWNS,
    CAMPAIGN_COLUMNS,
    FUNNEL_COLUMNS,
    Filters,
    ReportError,
    attribution_report,
    campaign_report,
    funnel_report,
)
from workspaces.csvsafe import formula_guarded
from workspaces.models import Workspace
from workspaces.scoping import workspace_scope


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = math.nan
    if not math.isfinite(days):
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of days.")
    return days


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not a date; use YYYY-MM-DD.") from None


def _csv_cell(value):
    """A text cell (a name of a campaign, channel, owner or stage) guarded against formulas as
    every export is; a number stays a number."""
    if value is None:
        return ""
    return formula_guarded(value) if isinstance(value, str) else value


class Command(BaseCommand):
    help = "Print the funnel, attribution or campaign report from the latest snapshot, as JSON or CSV."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="report", required=True)
        for name in ("funnel", "attribution", "campaigns"):
            p = sub.add_parser(name)
            p.add_argument("--workspace", required=True)
            p.add_argument("--from", dest="date_from")
            p.add_argument("--to", dest="date_to")
            p.add_argument("--format", choices=["json", "csv"], default="json")
            if name == "funnel":
                p.add_argument("--view", choices=["cohort", "period"], default="cohort")
                p.add_argument("--horizon", type=_days, help="days")
                p.add_argument("--by", choices=BREAKDOWNS)
            elif name == "attribution":
                p.add_argument("--model", required=True, choices=MODELS)
                p.add_argument("--level", required=True, choices=LEVELS)
                p.add_argument("--by", choices=["channel", "campaign"], default="channel")
            else:
                p.add_argument("--model", default="w_shaped", choices=MODELS[:6])

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug '{options['workspace']}'.")
        filters = Filters(
            date_from=_date(options["date_from"]) if options["date_from"] else None,
            date_to=_date(options["date_to"]) if options["date_to"] else None,
        )
        try:
            with workspace_scope(workspace):
                if options["report"] == "funnel":
                    result = funnel_report(
                        workspace,
                        filters=filters,
                        view=options["view"],
                        horizon_days=options["horizon"],
                        by=options["by"],
                    )
                    columns = (("breakdown", "key") if options["by"] else ()) + FUNNEL_COLUMNS
                elif options["report"] == "attribution":
                    result = attribution_report(
                        workspace, model=options["model"], level=options["level"], by=options["by"], filters=filters
                    )
                    columns = ATTRIBUTION_COLUMNS
                else:
                    result = campaign_report(workspace, model=options["model"], filters=filters)
                    columns = CAMPAIGN_COLUMNS
        except ReportError as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(result, indent=2))
            return
        writer = csv.DictWriter(self.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in result["rows"]:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
