"""The stage services: the only code that moves a lead or an opportunity.

Each move checks the transition table (``funnel.stages``), locks the row it moves so that two
concurrent moves of one record are serialized (one wins, the other sees the new stage and is
refused with a message naming both stages), appends the ``StageEvent`` and updates the current
stage in the same transaction. Imports pass ``source="import"`` and an ``entered_at`` in the
past to bring their history.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import Lead
from workspaces.permissions import Action
from workspaces.scoping import ensure_same_workspace

from ..models import Contract, Opportunity, StageEvent
from ..moments import check_event_times, check_plan_dates
from ..stages import (
    HISTORY_SKIPS,
    LEAD_TRANSITIONS,
    OPPORTUNITY_TRANSITIONS,
    ContractStatus,
    EventSource,
    LostReason,
    OpportunityKind,
    OpportunityStage,
    RejectionReason,
    Stage,
    lead_history_move_allowed,
    lead_transition_allowed,
)


class StageTransitionError(ValidationError):
    """A move the transition table forbids; the message names both stages."""

    def __init__(self, subject: str, from_stage: str | None, to_stage: str, history: bool = False):
        self.subject, self.from_stage, self.to_stage = subject, from_stage, to_stage
        allowed = None
        if subject == "lead":
            allowed = LEAD_TRANSITIONS.get(from_stage, frozenset())
            if history:
                allowed |= HISTORY_SKIPS.get(from_stage, frozenset())
            allowed = sorted(allowed)
        origin = f"'{from_stage}'" if from_stage else "no stage (a new person)"
        message = f"Cannot move {subject} from {origin} to '{to_stage}'."
        if allowed is not None:
            message += f" Allowed from {origin}: {', '.join(allowed) or 'none (a final stage)'}."
        super().__init__(message, code="illegal_transition")


# Said when the API refuses a live move (a write of the stage-events or opportunities resources
# by someone who may not import history: ``workspaces.permissions.HISTORY_ACTIONS``) that the
# history rules would take. API messages stay English, as the permission's name does.
HISTORY_NEEDS_IMPORT = (
    "Importing history (forward past stages never recorded, or dated before the lead's latest entry) "
    f"needs the permission {Action.IMPORT_DATA.value}."
)


def live_move_refused(error: StageTransitionError) -> ValidationError:
    """A lead's move refused on the import doors as a live move: the table's message, said to be
    the live table's, and what would take it (the import permission) when the history rules
    would (``lead_history_move_allowed``); a move they refuse too is just refused."""
    message = f"{error.message} The live transition table refused this move."
    if lead_history_move_allowed(error.from_stage, error.to_stage):
        message += f" {HISTORY_NEEDS_IMPORT}"
    return ValidationError(message, code="illegal_transition")


# Ledger rows of these stages name the opportunity they are about (docs/design.md).
DEAL_STAGES = frozenset({Stage.OPPORTUNITY, Stage.WON, Stage.LOST, Stage.RENEWED, Stage.CHURNED})


def _check_stage(value: str) -> None:
    if value not in Stage.values:
        raise ValidationError(f"Unknown stage '{value}'. Known stages: {', '.join(Stage.values)}.", code="invalid")


def _append(
    *, workspace, lead: Lead, stage: str, from_stage: str, entered_at, source, actor, reason, note, opportunity
):
    return StageEvent.objects.create(
        workspace=workspace,
        lead=lead,
        account_id=lead.account_id,
        opportunity=opportunity,
        stage=stage,
        from_stage=from_stage,
        entered_at=entered_at,
        source=source,
        actor=actor,
        reason=reason,
        note=note,
    )


def lead_first_event(*, workspace, lead: Lead, source: str = EventSource.UI, actor=None) -> StageEvent:
    """Write the ledger row of a person's first stage (``touched`` or ``lead``) at creation."""
    if not lead_transition_allowed(None, lead.stage):
        raise StageTransitionError("lead", None, lead.stage)
    return _append(
        workspace=workspace,
        lead=lead,
        stage=lead.stage,
        from_stage="",
        entered_at=lead.stage_entered_at,
        source=source,
        actor=actor,
        reason="",
        note="",
        opportunity=None,
    )


@transaction.atomic
def lead_stage_move(
    *,
    workspace,
    lead: Lead,
    to_stage: str,
    actor=None,
    source: str = EventSource.UI,
    entered_at: dt.datetime | None = None,
    reason: str = "",
    note: str = "",
    opportunity: Opportunity | None = None,
    history: bool = False,
) -> list[StageEvent]:
    """Move ``lead`` to ``to_stage`` and append the ledger rows; returns them.

    A rejection is followed, in the same transaction and at the same instant, by the automatic
    move to ``recycled`` (back to marketing's nurture). ``history``: an imported history's move
    (the opportunities resource), which may go forward past stages never recorded
    (``lead_history_move_allowed``); live moves keep to the table.
    """
    _check_stage(to_stage)
    check_event_times(ahead=True, entered_at=entered_at)
    if source not in EventSource.values:
        raise ValidationError({"source": f"Unknown source '{source}'. Known: {', '.join(EventSource.values)}."})
    ensure_same_workspace(workspace, lead=lead, opportunity=opportunity)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    allowed = lead_history_move_allowed if history else lead_transition_allowed
    if not allowed(locked.stage, to_stage):
        raise StageTransitionError("lead", locked.stage, to_stage, history=history)
    known_reasons = {Stage.REJECTED: RejectionReason, Stage.LOST: LostReason}.get(to_stage)
    if known_reasons is not None and reason not in known_reasons.values:
        raise ValidationError(
            {
                "reason": f"A move to '{to_stage}' needs a reason; '{reason}' is not one of: "
                f"{', '.join(known_reasons.values)}."
            }
        )
    if to_stage in DEAL_STAGES:
        if opportunity is None:
            raise ValidationError(
                {"opportunity": f"A move to '{to_stage}' names its opportunity; open, win or lose the deal instead."}
            )
        if opportunity.primary_lead_id != locked.pk:
            raise ValidationError({"opportunity": f"Opportunity '{opportunity}' belongs to another lead."})
    entered_at = entered_at or timezone.now()
    if entered_at < locked.stage_entered_at:
        raise ValidationError(
            {
                "entered_at": f"The lead entered '{locked.stage}' at {locked.stage_entered_at.isoformat()}; "
                f"it cannot enter '{to_stage}' earlier ({entered_at.isoformat()})."
            }
        )
    events = [
        _append(
            workspace=workspace,
            lead=locked,
            stage=to_stage,
            from_stage=locked.stage,
            entered_at=entered_at,
            source=source,
            actor=actor,
            reason=reason,
            note=note,
            opportunity=opportunity,
        )
    ]
    final_stage = to_stage
    if to_stage == Stage.REJECTED:
        events.append(
            _append(
                workspace=workspace,
                lead=locked,
                stage=Stage.RECYCLED,
                from_stage=Stage.REJECTED,
                entered_at=entered_at,
                source=EventSource.RULE,
                actor=actor,
                reason=reason,
                note="",
                opportunity=None,
            )
        )
        final_stage = Stage.RECYCLED
    now = timezone.now()
    changes = {"stage": final_stage, "stage_entered_at": entered_at, "updated_at": now}
    if to_stage == Stage.LEAD and (locked.captured_at is None or entered_at < locked.captured_at):
        changes["captured_at"] = entered_at
    Lead.objects.filter(pk=locked.pk).update(**changes)
    for name, value in changes.items():
        setattr(lead, name, value)
    return events


def _emit(workspace, event: str, payload: dict) -> None:
    from sync.services import webhook_emit

    webhook_emit(workspace=workspace, event=event, payload=payload)


def _lead_payload(lead: Lead, **extra) -> dict:
    return {"lead": {"id": lead.pk, "external_id": lead.external_id, "email": lead.email, "stage": lead.stage}} | extra


def _deal_payload(opportunity: Opportunity, contract: Contract | None = None) -> dict:
    payload = {
        "opportunity": {
            "id": opportunity.pk,
            "external_id": opportunity.external_id,
            "name": opportunity.name,
            "kind": opportunity.kind,
            "stage": opportunity.stage,
            "amount": f"{Decimal(opportunity.amount):.2f}",
            "closed_at": opportunity.closed_at.isoformat() if opportunity.closed_at else None,
            "lost_reason": opportunity.lost_reason,
        }
    }
    if contract is not None:
        payload["contract"] = {
            "id": contract.pk,
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "annual_value": f"{Decimal(contract.annual_value):.2f}",
            "status": contract.status,
            "renews_id": contract.renews_id,
        }
    return payload


@transaction.atomic
def lead_accept(*, workspace, lead: Lead, actor, source: str = EventSource.UI, entered_at=None) -> list[StageEvent]:
    """Sales accepts a handed-off lead: SAL."""
    events = lead_stage_move(
        workspace=workspace, lead=lead, to_stage=Stage.SAL, actor=actor, source=source, entered_at=entered_at
    )
    _emit(workspace, "lead.accepted", _lead_payload(lead, accepted_by=getattr(actor, "email", None)))
    return events


def lead_reject(
    *, workspace, lead: Lead, actor, reason: str, note: str = "", source: str = EventSource.UI, entered_at=None
) -> list[StageEvent]:
    """Sales rejects a lead with a reason; it is recycled to nurture in the same transaction."""
    if reason not in RejectionReason.values:
        raise ValidationError(
            {"reason": f"Unknown rejection reason '{reason}'. Known: {', '.join(RejectionReason.values)}."}
        )
    if reason == RejectionReason.OTHER and not note.strip():
        raise ValidationError({"note": "A rejection for 'other' needs a note saying why."})
    with transaction.atomic():
        events = lead_stage_move(
            workspace=workspace,
            lead=lead,
            to_stage=Stage.REJECTED,
            actor=actor,
            source=source,
            entered_at=entered_at,
            reason=reason,
            note=note.strip(),
        )
        _emit(workspace, "lead.rejected", _lead_payload(lead, reason=reason, note=note.strip()))
    return events


@transaction.atomic
def opportunity_create(
    *,
    workspace,
    account,
    primary_lead: Lead,
    name: str,
    amount: Decimal | int | str,
    kind: str = OpportunityKind.NEW_BUSINESS,
    actor=None,
    source: str = EventSource.UI,
    created_at: dt.datetime | None = None,
    expected_close_date: dt.date | None = None,
    owner=None,
    external_id: str = "",
    history: bool = False,
) -> Opportunity:
    """Open a deal. A ``new_business`` deal moves its primary lead to ``opportunity``
    (``history``: as ``lead_stage_move``'s, for an imported deal)."""
    ensure_same_workspace(workspace, account=account, primary_lead=primary_lead)
    check_event_times(ahead=True, created_at=created_at)
    check_plan_dates(expected_close_date=expected_close_date)
    opportunity = Opportunity(
        workspace=workspace,
        account=account,
        primary_lead=primary_lead,
        name=name,
        amount=amount,
        kind=kind,
        stage=OpportunityStage.QUALIFICATION,
        created_at=created_at or timezone.now(),
        expected_close_date=expected_close_date,
        owner=owner or primary_lead.owner,
        external_id=external_id,
        updated_at=timezone.now(),
    )
    opportunity.full_clean()
    opportunity.save()
    if kind == OpportunityKind.NEW_BUSINESS:
        lead_stage_move(
            workspace=workspace,
            lead=primary_lead,
            to_stage=Stage.OPPORTUNITY,
            actor=actor,
            source=source,
            entered_at=opportunity.created_at,
            opportunity=opportunity,
            history=history,
        )
    return opportunity


def _lock_open_opportunity(opportunity: Opportunity, to_stage: str) -> Opportunity:
    locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if to_stage not in OPPORTUNITY_TRANSITIONS.get(locked.stage, frozenset()):
        raise StageTransitionError("opportunity", locked.stage, to_stage)
    return locked


def _save_opportunity(locked: Opportunity, original: Opportunity, **changes) -> None:
    changes["updated_at"] = timezone.now()
    Opportunity.objects.filter(pk=locked.pk).update(**changes)
    for field, value in changes.items():
        setattr(original, field, value)
        setattr(locked, field, value)


@transaction.atomic
def opportunity_move(*, workspace, opportunity: Opportunity, to_stage: str, actor=None) -> Opportunity:
    """Move an open deal between qualification, proposal and negotiation (no ledger row: the
    ledger records funnel stages; closing goes through ``opportunity_win``/``opportunity_lose``)."""
    ensure_same_workspace(workspace, opportunity=opportunity)
    if to_stage not in OpportunityStage.values:
        raise ValidationError(
            {"stage": f"Unknown opportunity stage '{to_stage}'. Known: {', '.join(OpportunityStage.values)}."}
        )
    if to_stage in (OpportunityStage.WON, OpportunityStage.LOST):
        raise ValidationError({"stage": "Close a deal with win or lose, which record the contract and the reason."})
    locked = _lock_open_opportunity(opportunity, to_stage)
    _save_opportunity(locked, opportunity, stage=to_stage)
    return opportunity


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + dt.timedelta(days=365)


def _current_contract(workspace, account_id: int, at: dt.date) -> Contract | None:
    return (
        Contract.objects.select_for_update()
        .filter(account_id=account_id, status=ContractStatus.ACTIVE, start_date__lte=at)
        .order_by("-end_date", "-id")
        .first()
    )


@transaction.atomic
def opportunity_win(
    *,
    workspace,
    opportunity: Opportunity,
    actor=None,
    source: str = EventSource.UI,
    closed_at: dt.datetime | None = None,
    contract_start: dt.date | None = None,
    contract_end: dt.date | None = None,
    history: bool = False,
) -> Contract:
    """Win a deal: the paid step. Writes the contract and the ledger row of the primary lead:
    ``won`` for new business, ``renewed`` for a renewal (the contract it renews is marked
    renewed); an expansion adds a contract and counts in revenue figures only."""
    ensure_same_workspace(workspace, opportunity=opportunity)
    locked = _lock_open_opportunity(opportunity, OpportunityStage.WON)
    check_event_times(ahead=True, closed_at=closed_at)
    closed_at = closed_at or timezone.now()
    if closed_at < locked.created_at:
        raise ValidationError({"closed_at": "A deal cannot close before it was created."})
    local_close = timezone.localtime(closed_at, timezone.get_current_timezone()).date()
    start = contract_start or local_close
    end = contract_end or _one_year_after(start)
    renews = None
    if locked.kind == OpportunityKind.RENEWAL:
        renews = _current_contract(workspace, locked.account_id, start)
        if renews is not None:
            Contract.objects.filter(pk=renews.pk).update(status=ContractStatus.RENEWED, updated_at=timezone.now())
    contract = Contract(
        workspace=workspace,
        account_id=locked.account_id,
        opportunity=locked,
        start_date=start,
        end_date=end,
        annual_value=locked.amount,
        status=ContractStatus.ACTIVE,
        renews=renews,
    )
    contract.full_clean(exclude=["workspace", "account", "opportunity", "renews"])
    contract.save()
    _save_opportunity(locked, opportunity, stage=OpportunityStage.WON, closed_at=closed_at)
    lead_stage = {OpportunityKind.NEW_BUSINESS: Stage.WON, OpportunityKind.RENEWAL: Stage.RENEWED}.get(locked.kind)
    if lead_stage:
        lead_stage_move(
            workspace=workspace,
            lead=locked.primary_lead,
            to_stage=lead_stage,
            actor=actor,
            source=source,
            entered_at=closed_at,
            opportunity=locked,
            history=history,
        )
    _emit(workspace, "opportunity.won", _deal_payload(opportunity, contract))
    if locked.kind == OpportunityKind.RENEWAL:
        _emit(workspace, "contract.renewed", _deal_payload(opportunity, contract))
    return contract


@transaction.atomic
def opportunity_lose(
    *,
    workspace,
    opportunity: Opportunity,
    reason: str,
    actor=None,
    note: str = "",
    source: str = EventSource.UI,
    closed_at: dt.datetime | None = None,
    history: bool = False,
) -> Opportunity:
    """Lose a deal with a reason. New business: the lead enters ``lost``; a lost renewal is a
    churn (the lead enters ``churned`` and the account's current contract is marked churned)."""
    ensure_same_workspace(workspace, opportunity=opportunity)
    if reason not in LostReason.values:
        raise ValidationError(
            {"lost_reason": f"Unknown lost reason '{reason}'. Known: {', '.join(LostReason.values)}."}
        )
    if reason == LostReason.OTHER and not note.strip():
        raise ValidationError({"note": "A loss for 'other' needs a note saying why."})
    locked = _lock_open_opportunity(opportunity, OpportunityStage.LOST)
    check_event_times(ahead=True, closed_at=closed_at)
    closed_at = closed_at or timezone.now()
    if closed_at < locked.created_at:
        raise ValidationError({"closed_at": "A deal cannot close before it was created."})
    _save_opportunity(locked, opportunity, stage=OpportunityStage.LOST, closed_at=closed_at, lost_reason=reason)
    if locked.kind == OpportunityKind.RENEWAL:
        local_close = timezone.localtime(closed_at, timezone.get_current_timezone()).date()
        current = _current_contract(workspace, locked.account_id, local_close)
        if current is not None:
            Contract.objects.filter(pk=current.pk).update(status=ContractStatus.CHURNED, updated_at=timezone.now())
            current.status = ContractStatus.CHURNED
        _emit(workspace, "contract.churned", _deal_payload(opportunity, current))
    lead_stage = {OpportunityKind.NEW_BUSINESS: Stage.LOST, OpportunityKind.RENEWAL: Stage.CHURNED}.get(locked.kind)
    if lead_stage:
        lead_stage_move(
            workspace=workspace,
            lead=locked.primary_lead,
            to_stage=lead_stage,
            actor=actor,
            source=source,
            entered_at=closed_at,
            reason=reason,
            note=note,
            opportunity=locked,
            history=history,
        )
    return opportunity
