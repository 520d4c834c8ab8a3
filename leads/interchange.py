"""The lead's interchange columns (CSV and API alike) and its output rows."""

from sync.interchange import CHOICE, DATETIME, EMAIL, ID, INTEGER, Column, OutputColumn, Spec
from workspaces.choices import Seniority

LEADS = Spec(
    resource="leads",
    columns=(
        Column("external_id", ID, help="your system's id; matched first"),
        Column("email", EMAIL, 254, help="normalized (trimmed, lower case); unique in the workspace; matched next"),
        Column("first_name", max_length=100),
        Column("last_name", max_length=100),
        Column("title", max_length=200),
        Column("seniority", CHOICE, choices=tuple(Seniority.values)),
        Column("department", max_length=100),
        Column("phone", max_length=50),
        Column("account_external_id", ID, help="the account's external_id"),
        Column("owner_email", EMAIL, 254, help="a member of the workspace"),
        Column(
            "created_at",
            DATETIME,
            help="when the person became a lead (entry into stage lead); empty for a person reached "
            "but never captured, who stays in stage touched",
            event=True,
        ),
    ),
    output_only=(
        OutputColumn("stage", help="the current stage"),
        OutputColumn("stage_entered_at", DATETIME),
        OutputColumn("score", INTEGER),
        OutputColumn("updated_at", DATETIME),
    ),
    matched_on="external_id, then email",
    required_to_create=("email",),
)

# The columns read for output, in LEADS.output_names order (created_at is the capture time).
LEAD_VALUES = (
    "id",
    "external_id",
    "email",
    "first_name",
    "last_name",
    "title",
    "seniority",
    "department",
    "phone",
    "account__external_id",
    "owner__email",
    "captured_at",
    "stage",
    "stage_entered_at",
    "score",
    "updated_at",
)
