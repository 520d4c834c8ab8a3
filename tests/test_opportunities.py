import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from funnel.models import Contract, Opportunity, StageEvent
from funnel.services import (
    StageTransitionError,
    opportunity_create,
    opportunity_lose,
    opportunity_move,
    opportunity_win,
)

from .stage_paths import lead_at


def _deal(ws, lead, clock, kind="new_business", amount="12000.00"):
    return opportunity_create(
        workspace=ws,
        account=lead.account,
        primary_lead=lead,
        name="Deal",
        amount=Decimal(amount),
        kind=kind,
        created_at=clock(),
    )


def test_opening_a_new_business_deal_moves_the_lead_and_names_the_deal_in_the_ledger(scoped):
    lead, clock = lead_at(scoped, "sal")
    deal = _deal(scoped, lead, clock)
    lead.refresh_from_db()
    assert lead.stage == "opportunity"
    event = StageEvent.objects.get(lead=lead, stage="opportunity")
    assert (event.opportunity_id, event.account_id, event.entered_at) == (deal.pk, lead.account_id, deal.created_at)


def test_opening_a_deal_for_a_lead_not_yet_accepted_is_refused_and_leaves_no_deal(scoped):
    lead, clock = lead_at(scoped, "mql")
    with pytest.raises(StageTransitionError, match="from 'mql' to 'opportunity'"):
        _deal(scoped, lead, clock)
    assert Opportunity.objects.count() == 0


def test_a_negative_amount_is_refused(scoped):
    lead, clock = lead_at(scoped, "sal")
    with pytest.raises(ValidationError, match="amount cannot be below zero"):
        _deal(scoped, lead, clock, amount="-1")
    assert Opportunity.objects.count() == 0
    lead.refresh_from_db()
    assert lead.stage == "sal"


def test_winning_writes_a_one_year_contract_and_the_won_row(scoped):
    lead, clock = lead_at(scoped, "sal")
    deal = _deal(scoped, lead, clock)
    closed = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    contract = opportunity_win(workspace=scoped, opportunity=deal, closed_at=closed)
    deal.refresh_from_db()
    lead.refresh_from_db()
    assert (deal.stage, deal.closed_at, lead.stage) == ("won", closed, "won")
    assert (contract.start_date, contract.end_date) == (dt.date(2026, 3, 10), dt.date(2027, 3, 10))
    assert contract.annual_value == Decimal("12000.00") and contract.status == "active"
    assert StageEvent.objects.get(lead=lead, stage="won").opportunity_id == deal.pk


def test_winning_a_renewal_renews_the_current_contract_and_the_lead(scoped):
    lead, clock = lead_at(scoped, "won")
    first = Contract.objects.get()
    renewal = _deal(scoped, lead, clock, kind="renewal", amount="15000")
    lead.refresh_from_db()
    assert lead.stage == "won"  # a renewal deal does not re-enter the new-business funnel
    second = opportunity_win(workspace=scoped, opportunity=renewal, closed_at=clock())
    first.refresh_from_db()
    lead.refresh_from_db()
    assert (first.status, second.renews_id, second.status) == ("renewed", first.pk, "active")
    assert lead.stage == "renewed"


def test_losing_a_renewal_is_a_churn(scoped):
    lead, clock = lead_at(scoped, "won")
    renewal = _deal(scoped, lead, clock, kind="renewal")
    opportunity_lose(workspace=scoped, opportunity=renewal, reason="competitor", closed_at=clock())
    lead.refresh_from_db()
    assert lead.stage == "churned"
    assert Contract.objects.get().status == "churned"
    assert StageEvent.objects.get(lead=lead, stage="churned").reason == "competitor"


def test_an_expansion_adds_revenue_but_no_funnel_row(scoped):
    lead, clock = lead_at(scoped, "won")
    rows = StageEvent.objects.count()
    expansion = _deal(scoped, lead, clock, kind="expansion", amount="3000")
    opportunity_win(workspace=scoped, opportunity=expansion, closed_at=clock())
    assert StageEvent.objects.count() == rows
    assert Contract.objects.filter(status="active").count() == 2


def test_losing_needs_a_known_reason(scoped):
    lead, clock = lead_at(scoped, "opportunity")
    deal = Opportunity.objects.get()
    with pytest.raises(ValidationError, match="Unknown lost reason 'bad-luck'"):
        opportunity_lose(workspace=scoped, opportunity=deal, reason="bad-luck")
    with pytest.raises(ValidationError, match="needs a note"):
        opportunity_lose(workspace=scoped, opportunity=deal, reason="other")
    opportunity_lose(workspace=scoped, opportunity=deal, reason="price", closed_at=clock())
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("lost", "price")


def test_open_deals_move_between_open_stages_and_closed_ones_do_not_move(scoped):
    lead, clock = lead_at(scoped, "opportunity")
    deal = Opportunity.objects.get()
    opportunity_move(workspace=scoped, opportunity=deal, to_stage="negotiation")
    opportunity_move(workspace=scoped, opportunity=deal, to_stage="proposal")
    assert Opportunity.objects.get().stage == "proposal"
    with pytest.raises(ValidationError, match="Close a deal with win or lose"):
        opportunity_move(workspace=scoped, opportunity=deal, to_stage="won")
    with pytest.raises(ValidationError, match="Unknown opportunity stage 'signed'"):
        opportunity_move(workspace=scoped, opportunity=deal, to_stage="signed")
    opportunity_win(workspace=scoped, opportunity=deal, closed_at=clock())
    with pytest.raises(StageTransitionError, match="from 'won' to 'lost'"):
        opportunity_lose(workspace=scoped, opportunity=deal, reason="price")


def test_a_deal_cannot_close_before_it_opened(scoped):
    lead, clock = lead_at(scoped, "opportunity")
    deal = Opportunity.objects.get()
    with pytest.raises(ValidationError, match="cannot close before it was created"):
        opportunity_win(workspace=scoped, opportunity=deal, closed_at=deal.created_at - dt.timedelta(days=1))
    assert Contract.objects.count() == 0
