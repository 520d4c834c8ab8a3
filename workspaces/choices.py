"""The identifiers of DESIGN.md's "Names used everywhere", in one place. Code, database values,
CSV columns and URLs use these; pages may show the labels."""

from django.db import models


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"


class Seniority(models.TextChoices):
    EXECUTIVE = "executive", "Executive"
    DIRECTOR = "director", "Director"
    MANAGER = "manager", "Manager"
    INDIVIDUAL = "individual", "Individual contributor"
