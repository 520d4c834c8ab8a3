"""The interchange columns of campaigns and touches (CSV and API alike)."""

from sync.interchange import CHOICE, DATE, DATETIME, DECIMAL, EMAIL, ID, SLUG, Column, OutputColumn, Spec

from .choices import CampaignType, TouchType

CAMPAIGNS = Spec(
    resource="campaigns",
    columns=(
        Column("external_id", ID, help="your system's id; campaigns are matched on it"),
        Column("name"),
        Column("channel", SLUG, 50, help="a channel slug of the workspace (paid_search, email, events, ...)"),
        Column("type", CHOICE, choices=tuple(CampaignType.values)),
        Column("start_date", DATE),
        Column("end_date", DATE),
        Column("budget", DECIMAL, help="in the workspace's currency"),
        Column("cost", DECIMAL, help="the actual cost so far, in the workspace's currency"),
        Column("utm_source"),
        Column("utm_medium"),
        Column("utm_campaign"),
    ),
    output_only=(OutputColumn("status"), OutputColumn("updated_at", DATETIME)),
    required_to_create=("name", "channel", "type", "start_date"),
)

CAMPAIGN_VALUES = (
    "id",
    "external_id",
    "name",
    "channel__slug",
    "type",
    "start_date",
    "end_date",
    "budget",
    "actual_cost",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "status",
    "updated_at",
)

TOUCHES = Spec(
    resource="touches",
    columns=(
        Column(
            "external_id",
            ID,
            help="your system's id; without one a touch is matched on lead, time, channel, type and campaign",
        ),
        Column("lead_external_id", ID, help="the lead, by its external_id ..."),
        Column("lead_email", EMAIL, 254, help="... or by its email; the lead must exist"),
        Column("campaign_external_id", ID, help="the campaign (the scene), if any"),
        Column("channel", SLUG, 50, help="a channel slug; defaults to the campaign's channel"),
        Column("type", CHOICE, choices=tuple(TouchType.values)),
        Column("occurred_at", DATETIME, event=True),
    ),
    output_only=(OutputColumn("updated_at", DATETIME),),
    matched_on="external_id, else lead + occurred_at + channel + type + campaign",
    required_to_create=("type", "occurred_at"),
)

TOUCH_VALUES = (
    "id",
    "external_id",
    "lead__external_id",
    "lead__email",
    "campaign__external_id",
    "channel__slug",
    "type",
    "occurred_at",
    "updated_at",
)
