"""Reads of campaigns and touches. Every function runs inside the workspace's scope (the scoped
managers filter to it) and takes the workspace first."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django_scopes import get_scope

from .choices import CampaignStatus
from .models import Campaign, Touch


def workspace_today(workspace) -> dt.date:
    """Today's date in the workspace's time zone: the day a campaign's dates are read against."""
    return timezone.now().astimezone(ZoneInfo(workspace.timezone)).date()


def campaign_status(*, start_date: dt.date, end_date: dt.date | None, closed_at, today: dt.date) -> str:
    """Planned before the start, active from the start through the end day, closed after it,
    or closed as soon as a marketer closed it early. The same rule as ``status_expression``."""
    if closed_at is not None:
        return CampaignStatus.CLOSED
    if start_date > today:
        return CampaignStatus.PLANNED
    if end_date is not None and end_date < today:
        return CampaignStatus.CLOSED
    return CampaignStatus.ACTIVE


def status_expression(today: dt.date) -> Case:
    """``campaign_status`` in SQL, so the status can be filtered and sorted by the database."""
    return Case(
        When(closed_at__isnull=False, then=Value(CampaignStatus.CLOSED)),
        When(start_date__gt=today, then=Value(CampaignStatus.PLANNED)),
        When(end_date__lt=today, then=Value(CampaignStatus.CLOSED)),
        default=Value(CampaignStatus.ACTIVE),
        output_field=CharField(),
    )


def status_filter(status: str, today: dt.date) -> Q:
    """The campaigns of one status, as plain conditions on the dates (an index can serve them)."""
    if status == CampaignStatus.PLANNED:
        return Q(closed_at__isnull=True, start_date__gt=today)
    if status == CampaignStatus.ACTIVE:
        return Q(closed_at__isnull=True, start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gte=today))
    return Q(closed_at__isnull=False) | Q(end_date__lt=today)


def campaigns_with_status(workspace, *, today: dt.date | None = None) -> QuerySet:
    """The workspace's campaigns, each with its ``status`` of today (in the workspace's time
    zone), and the channel and owner a list shows."""
    today = today or workspace_today(workspace)
    return Campaign.objects.annotate(status=status_expression(today)).select_related("channel", "owner")


def scoped_campaigns() -> QuerySet:
    """``campaigns_with_status`` of the workspace whose scope is active: the rows of the
    ``campaigns`` resource (API, change feed, CSV export), which are asked without a workspace."""
    from workspaces.models import Workspace

    workspace = get_scope().get("workspace")
    if not isinstance(workspace, Workspace):
        workspace = Workspace.objects.only("timezone").get(pk=workspace)
    return campaigns_with_status(workspace)


def campaign_latest_touches(workspace, campaign: Campaign, *, limit: int = 20) -> list[Touch]:
    """The campaign's newest touches, with their person and channel (the index on workspace,
    campaign and time serves it)."""
    return list(
        Touch.objects.filter(campaign=campaign)
        .select_related("lead", "channel")
        .order_by("-occurred_at", "-id")[:limit]
    )


def campaign_sourced_leads(workspace, campaign: Campaign, *, limit: int = 20) -> tuple[list, int]:
    """The people whose first touch was in this campaign (the campaign sourced them), newest
    first, and how many there are. Set-based: a touch of the campaign with no earlier touch of
    its person, found through the index on (workspace, lead, time, id); ties in time go by id,
    as the engine orders them."""
    from leads.models import Lead

    earlier = Touch.objects.filter(lead_id=OuterRef("lead_id")).filter(
        Q(occurred_at__lt=OuterRef("occurred_at")) | Q(occurred_at=OuterRef("occurred_at"), id__lt=OuterRef("id"))
    )
    firsts = Touch.objects.filter(campaign=campaign).exclude(Exists(earlier))
    leads = Lead.objects.filter(id__in=firsts.values("lead_id"), merged_into__isnull=True, erased_at__isnull=True)
    total = leads.count()
    rows = list(leads.select_related("account", "owner").order_by("-created_at", "-id")[:limit])
    return rows, total
