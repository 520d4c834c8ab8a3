"""Bring a lead to any stage through the services, as a user would, for the transition tests."""

import datetime as dt

from funnel.models import Opportunity
from funnel.services import (
    lead_reject,
    lead_stage_move,
    opportunity_create,
    opportunity_lose,
    opportunity_win,
)
from funnel.stages import Stage
from leads.models import Lead

from .factories import AccountFactory, LeadFactory

BASE = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    """Hands out strictly increasing times, so backdated moves stay in order."""

    def __init__(self, start=BASE):
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(hours=1)
        return self.now


def _open_deal(ws, lead: Lead, clock: Clock, kind: str = "new_business") -> Opportunity:
    return opportunity_create(
        workspace=ws,
        account=lead.account,
        primary_lead=lead,
        name=f"{kind} for {lead.email}",
        amount=10000,
        kind=kind,
        created_at=clock(),
    )


def perform(ws, lead: Lead, to_stage: str, clock: Clock) -> None:
    """Make the move to ``to_stage`` the way the product does it."""
    if to_stage == Stage.OPPORTUNITY:
        _open_deal(ws, lead, clock)
    elif to_stage in (Stage.WON, Stage.LOST):
        deal = Opportunity.objects.filter(primary_lead=lead, stage__in=["qualification", "proposal", "negotiation"])
        deal = deal.get()
        if to_stage == Stage.WON:
            opportunity_win(workspace=ws, opportunity=deal, closed_at=clock())
        else:
            opportunity_lose(workspace=ws, opportunity=deal, reason="price", closed_at=clock())
    elif to_stage in (Stage.RENEWED, Stage.CHURNED):
        renewal = _open_deal(ws, lead, clock, kind="renewal")
        if to_stage == Stage.RENEWED:
            opportunity_win(workspace=ws, opportunity=renewal, closed_at=clock())
        else:
            opportunity_lose(workspace=ws, opportunity=renewal, reason="no_decision", closed_at=clock())
    elif to_stage == Stage.REJECTED:
        lead_reject(workspace=ws, lead=lead, actor=None, reason="timing", entered_at=clock())
    else:
        lead_stage_move(workspace=ws, lead=lead, to_stage=to_stage, entered_at=clock())
    lead.refresh_from_db()


# A legal way to each resting stage, from the first stage.
PATHS: dict[str, list[str]] = {
    "touched": [],
    "lead": [],
    "mql": ["mql"],
    "sal": ["sal"],
    "recycled": ["mql", "rejected"],
    "disqualified": ["disqualified"],
    "opportunity": ["sal", "opportunity"],
    "won": ["sal", "opportunity", "won"],
    "lost": ["sal", "opportunity", "lost"],
    "renewed": ["sal", "opportunity", "won", "renewed"],
    "churned": ["sal", "opportunity", "won", "churned"],
}


def lead_at(ws, stage: str, clock: Clock | None = None) -> tuple[Lead, Clock]:
    clock = clock or Clock()
    account = AccountFactory(workspace=ws)
    first = "touched" if stage == "touched" else "lead"
    lead = LeadFactory(workspace=ws, account=account, stage=first, entered_at=clock())
    for step in PATHS[stage]:
        perform(ws, lead, step, clock)
    assert lead.stage == stage
    return lead, clock
