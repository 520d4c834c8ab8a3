"""The interchange columns of opportunities, stage events and contracts (CSV and API alike)."""

from sync.interchange import CHOICE, DATE, DATETIME, DECIMAL, EMAIL, ID, Column, OutputColumn, Spec

from .stages import ContractStatus, LostReason, OpportunityKind, OpportunityStage, Stage

OPPORTUNITIES = Spec(
    resource="opportunities",
    columns=(
        Column("external_id", ID, help="your system's id; opportunities are matched on it"),
        Column("name"),
        Column("account_external_id", ID),
        Column("lead_external_id", ID, help="the primary lead"),
        Column("amount", DECIMAL, help="in the workspace's currency"),
        Column("kind", CHOICE, choices=tuple(OpportunityKind.values)),
        Column("stage", CHOICE, choices=tuple(OpportunityStage.values)),
        Column("created_at", DATETIME, help="its entry into stage opportunity; default now", event=True),
        Column("closed_at", DATETIME, help="when it was won or lost (needed for those stages)", event=True),
        Column("lost_reason", CHOICE, choices=tuple(LostReason.values)),
    ),
    output_only=(OutputColumn("owner_email", EMAIL), OutputColumn("updated_at", DATETIME)),
    required_to_create=("name", "account_external_id", "lead_external_id", "amount"),
)

OPPORTUNITY_VALUES = (
    "id",
    "external_id",
    "name",
    "account__external_id",
    "primary_lead__external_id",
    "amount",
    "kind",
    "stage",
    "created_at",
    "closed_at",
    "lost_reason",
    "owner__email",
    "updated_at",
)

STAGE_EVENTS = Spec(
    resource="stage_events",
    columns=(
        Column("lead_external_id", ID, help="the lead, by its external_id ..."),
        Column("lead_email", EMAIL, 254, help="... or by its email"),
        Column("opportunity_external_id", ID, help="needed for opportunity, won, lost, renewed and churned"),
        Column("stage", CHOICE, choices=tuple(Stage.values)),
        Column("entered_at", DATETIME, event=True),
        Column("reason", max_length=32, help="the rejection or lost reason"),
    ),
    output_only=(
        OutputColumn("from_stage"),
        OutputColumn("source"),
        OutputColumn("recorded_at", DATETIME),
    ),
    matched_on="lead + stage + entered_at + opportunity",
    required_to_create=("stage", "entered_at"),
)

STAGE_EVENT_VALUES = (
    "id",
    "lead__external_id",
    "lead__email",
    "opportunity__external_id",
    "stage",
    "entered_at",
    "reason",
    "from_stage",
    "source",
    "recorded_at",
)

CONTRACTS = Spec(
    resource="contracts",
    columns=(
        Column("external_id", ID),
        Column("account_external_id", ID),
        Column("opportunity_external_id", ID, help="the won opportunity that made it"),
        Column("start_date", DATE),
        Column("end_date", DATE),
        Column("annual_value", DECIMAL),
        Column("status", CHOICE, choices=tuple(ContractStatus.values)),
        Column("renews_id", ID, help="our id of the contract it renews"),
    ),
    output_only=(OutputColumn("updated_at", DATETIME),),
    matched_on="read only: contracts are written by winning opportunities",
)

CONTRACT_VALUES = (
    "id",
    "external_id",
    "account__external_id",
    "opportunity__external_id",
    "start_date",
    "end_date",
    "annual_value",
    "status",
    "renews_id",
    "updated_at",
)
