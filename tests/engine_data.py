"""A small but rich random history, built through the services, for the engine's tests.

``build_history(workspace, seed=...)`` must run inside ``workspace_scope(workspace)``. It makes
about six accounts (one without a segment, three on ABM target lists, one of them on two lists
at different tiers), a few owners, campaigns with and without an external id, and some sixty
people whose paths cover the whole transition table: people only touched, leads captured
directly (skipping ``touched``), leads going straight from ``lead`` to ``sal`` (skipping
``mql``), rejected and recycled leads qualified again, disqualified ones, won, lost (and won
later), renewed, churned, expansion deals, moves at the very same instant as the previous one,
and touches before and after the conversions, tied in time, older than the lookback window,
without a campaign, or none at all. Every time is a whole second, so both databases and the
engine's millisecond reads see the same instants.
"""

import datetime as dt
import random
from decimal import Decimal

from accounts.models import TargetList
from accounts.services import account_create, target_list_add_account
from attribution.models import Campaign, Channel
from attribution.services import touch_record
from funnel.services import (
    lead_accept,
    lead_reject,
    lead_stage_move,
    opportunity_create,
    opportunity_lose,
    opportunity_win,
)
from leads.services import lead_create
from workspaces.services import membership_add

BASE = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
CHANNELS = ("paid_search", "email", "events", "webinar", "content", "referral")
SEGMENTS = ("smb", "mid_market", "enterprise", "", "smb", "enterprise")
TOUCH_TYPES = ("ad_click", "form_fill", "email_click", "event_attended", "web_visit", "meeting")


def build_history(workspace, *, seed: int = 1, n_leads: int = 60, prefix: str = "") -> dict:
    rng = random.Random(seed)
    prefix = prefix or f"{workspace.slug}-{seed}"
    owners = [
        membership_add(workspace=workspace, email=f"{prefix}-rep{i}@example.test", role="sales_rep").user
        for i in range(3)
    ]
    accounts = [
        account_create(
            workspace=workspace, name=f"{prefix} Co {i}", domain=f"{prefix}-co{i}.example", segment=SEGMENTS[i]
        )
        for i in range(6)
    ]
    abm = TargetList.objects.create(workspace=workspace, name=f"{prefix} ABM")
    expansion_list = TargetList.objects.create(workspace=workspace, name=f"{prefix} ABM 2")
    target_list_add_account(workspace=workspace, target_list=abm, account=accounts[0], tier=1)
    target_list_add_account(workspace=workspace, target_list=abm, account=accounts[1], tier=3)
    target_list_add_account(workspace=workspace, target_list=expansion_list, account=accounts[1], tier=2)
    target_list_add_account(workspace=workspace, target_list=expansion_list, account=accounts[2], tier=3)

    channels = {c.slug: c for c in Channel.objects.filter(slug__in=CHANNELS)}
    campaigns = []
    for i, slug in enumerate(("paid_search", "email", "events", "webinar", "email")):
        campaign = Campaign(
            workspace=workspace,
            name=f"{prefix} campaign {i}",
            channel=channels[slug],
            type="event",
            start_date=dt.date(2025, 1, 1),
            actual_cost=Decimal(1000 * (i + 1)),
            external_id=f"{prefix}-cmp{i}" if i % 2 == 0 else "",
        )
        campaign.full_clean(exclude=["workspace", "channel", "owner", "target_list"])
        campaign.save()
        campaigns.append(campaign)

    leads = []
    touch_plan = []  # (lead, time): recorded afterwards in a shuffled order, so ids do not follow time
    for i in range(n_leads):
        account = accounts[rng.randrange(6)] if rng.random() < 0.85 else None
        owner = rng.choice([*owners, None])
        start = BASE + dt.timedelta(seconds=rng.randrange(0, 330 * 86_400))
        first_stage = "touched" if rng.random() < 0.3 else "lead"
        lead = lead_create(
            workspace=workspace,
            email=f"{prefix}-p{i}@example.test",
            stage=first_stage,
            entered_at=start,
            account=account,
            owner=owner,
        )
        leads.append(lead)
        end = _walk(rng, workspace, lead, owners, start)
        touch_plan += _plan_touches(rng, lead, start, end)

    rng.shuffle(touch_plan)
    for lead, when, tie in touch_plan:
        for _ in range(2 if tie else 1):  # a tie: two touches at the same instant, in different channels
            campaign = rng.choice(campaigns) if rng.random() < 0.6 else None
            channel = campaign.channel if campaign else channels[rng.choice(CHANNELS)]
            touch_record(
                workspace=workspace,
                lead=lead,
                channel=channel,
                campaign=campaign,
                type=rng.choice(TOUCH_TYPES),
                occurred_at=when,
            )
    return {"leads": leads, "accounts": accounts, "campaigns": campaigns, "owners": owners}


def _plan_touches(rng, lead, start, end):
    """Touch instants for one person: none for some, around their history for most, exactly at
    their first event for some, and a few far older than a year."""
    roll = rng.random()
    if roll < 0.18:
        return []
    plan = []
    span = max(int((end - start).total_seconds()), 86_400)
    for _ in range(rng.randint(1, 5)):
        when = start + dt.timedelta(seconds=rng.randrange(-60 * 86_400, span + 30 * 86_400))
        plan.append((lead, when, rng.random() < 0.15))
    if rng.random() < 0.25:
        plan.append((lead, start, False))
    if rng.random() < 0.15:
        plan.append((lead, start - dt.timedelta(days=rng.randint(370, 500)), False))
    return plan


def _later(rng, when, max_days=40):
    """The next instant: sometimes the same one (a move at the same moment)."""
    if rng.random() < 0.12:
        return when
    return when + dt.timedelta(seconds=rng.randrange(60, max_days * 86_400))


def _walk(rng, workspace, lead, owners, when):
    """Move one person along a random legal path; returns the time of its last move."""
    actor = owners[0]
    stage = lead.stage
    for _ in range(12):
        r = rng.random()
        if stage == "touched":
            if r < 0.65:
                stage = "lead"
            elif r < 0.75:
                stage = "disqualified"
            else:
                return when
            when = _later(rng, when)
            lead_stage_move(workspace=workspace, lead=lead, to_stage=stage, entered_at=when)
        elif stage in ("lead", "recycled"):
            if r < 0.5:
                stage = "mql"
            elif r < 0.72 and lead.stage == "lead":
                stage = "sal"
            elif r < 0.8:
                stage = "disqualified"
            else:
                return when
            when = _later(rng, when)
            lead_stage_move(workspace=workspace, lead=lead, to_stage=stage, entered_at=when)
        elif stage == "mql":
            when = _later(rng, when)
            if r < 0.55:
                lead_accept(workspace=workspace, lead=lead, actor=actor, entered_at=when)
                stage = "sal"
            elif r < 0.8:
                reason = rng.choice(["not_icp", "no_budget", "timing"])
                lead_reject(workspace=workspace, lead=lead, actor=actor, reason=reason, entered_at=when)
                stage = "recycled"
            else:
                return when
        elif stage == "sal":
            if lead.account_id and r < 0.75:
                when, stage = _deal(rng, workspace, lead, when)
            elif r < 0.85:
                when = _later(rng, when)
                lead_reject(workspace=workspace, lead=lead, actor=actor, reason="no_budget", entered_at=when)
                stage = "recycled"
            else:
                return when
        elif stage == "lost":
            if r < 0.35:
                when, stage = _deal(rng, workspace, lead, when)
            elif r < 0.55:
                when = _later(rng, when)
                lead_stage_move(workspace=workspace, lead=lead, to_stage="recycled", entered_at=when)
                stage = "recycled"
            else:
                return when
        elif stage in ("won", "renewed"):
            if stage == "won" and r < 0.2:
                when = _later(rng, when)
                expansion = opportunity_create(
                    workspace=workspace,
                    account=lead.account,
                    primary_lead=lead,
                    name="expansion",
                    amount=_amount(rng),
                    kind="expansion",
                    created_at=when,
                )
                opportunity_win(workspace=workspace, opportunity=expansion, closed_at=_later(rng, when))
            if r < 0.55:
                when = _later(rng, when, 300)
                renewal = opportunity_create(
                    workspace=workspace,
                    account=lead.account,
                    primary_lead=lead,
                    name="renewal",
                    amount=_amount(rng),
                    kind="renewal",
                    created_at=when,
                )
                when = _later(rng, when)
                if rng.random() < 0.7:
                    opportunity_win(workspace=workspace, opportunity=renewal, closed_at=when)
                    stage = "renewed"
                else:
                    opportunity_lose(workspace=workspace, opportunity=renewal, reason="price", closed_at=when)
                    return when
            else:
                return when
        else:
            return when
    return when


def _amount(rng) -> Decimal:
    return Decimal(rng.randrange(100_000, 9_000_000)) / 100


def _deal(rng, workspace, lead, when):
    """Open a new-business deal for the lead, and maybe win or lose it."""
    when = _later(rng, when)
    deal = opportunity_create(
        workspace=workspace,
        account=lead.account,
        primary_lead=lead,
        name=f"deal {lead.pk}",
        amount=_amount(rng),
        created_at=when,
    )
    r = rng.random()
    if r < 0.5:
        when = _later(rng, when, 90)
        opportunity_win(workspace=workspace, opportunity=deal, closed_at=when)
        return when, "won"
    if r < 0.8:
        when = _later(rng, when, 90)
        reason = rng.choice(["price", "competitor", "timing"])
        opportunity_lose(workspace=workspace, opportunity=deal, reason=reason, closed_at=when)
        return when, "lost"
    return when, "opportunity"
