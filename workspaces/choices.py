"""The identifiers of docs/design.md's "Identifiers", in one place. Code, database values,
CSV columns and URLs use these; pages may show the labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Segment(models.TextChoices):
    SMB = "smb", _("SMB")
    MID_MARKET = "mid_market", _("Mid-market")
    ENTERPRISE = "enterprise", _("Enterprise")


class Seniority(models.TextChoices):
    EXECUTIVE = "executive", _("Executive")
    DIRECTOR = "director", _("Director")
    MANAGER = "manager", _("Manager")
    INDIVIDUAL = "individual", _("Individual contributor")
