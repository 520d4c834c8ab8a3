"""The account's interchange columns (CSV and API alike)."""

from sync.interchange import CHOICE, DATETIME, DOMAIN, EMAIL, ID, INTEGER, Column, OutputColumn, Spec
from workspaces.choices import Segment

ACCOUNTS = Spec(
    resource="accounts",
    columns=(
        Column("external_id", ID, help="your system's id; matched first"),
        Column("name"),
        Column("domain", DOMAIN, help="normalized (acme.com); unique in the workspace; matched next"),
        Column("industry", max_length=100),
        Column("employees", INTEGER, help="employee count"),
        Column("country", max_length=2, help="ISO 3166-1 alpha-2, such as US or DE"),
        Column("segment", CHOICE, choices=tuple(Segment.values)),
        Column("owner_email", EMAIL, 254, help="a member of the workspace"),
    ),
    output_only=(OutputColumn("updated_at", DATETIME),),
    matched_on="external_id, then domain",
    required_to_create=("name",),
)

ACCOUNT_VALUES = (
    "id",
    "external_id",
    "name",
    "domain",
    "industry",
    "employee_count",
    "country",
    "segment",
    "owner__email",
    "updated_at",
)
