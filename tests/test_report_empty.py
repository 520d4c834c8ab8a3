"""A workspace with campaigns but no conversion yet (a new customer's first days) has a snapshot
with no credit rows: every report still answers, with zeros, instead of failing."""

import pytest

from funnel.reports import attribution_report, campaign_report, funnel_report
from funnel.snapshots import recompute_workspace
from workspaces.scoping import workspace_scope

from .factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_reports_answer_for_a_snapshot_without_any_credit(workspace):
    with workspace_scope(workspace):
        campaign = CampaignFactory(workspace=workspace, name="Launch")
        recompute_workspace(workspace=workspace)
        table = campaign_report(workspace)
        assert [(row["name"], row["leads"], row["revenue"]) for row in table["rows"]] == [("Launch", 0, 0)]
        assert [row["name"] for row in campaign_report(workspace, campaign_id=campaign.pk)["rows"]] == ["Launch"]
        credit = attribution_report(workspace, level="revenue", model="linear", by="channel")["rows"]
        assert sum(row["revenue"] for row in credit) == 0
        assert funnel_report(workspace)["rows"]
