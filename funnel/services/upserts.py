"""The bulk upserts of opportunities and stage events (the API and the CSV import).

Opportunities move through the stage services one record at a time (each in a savepoint, so
one refused move does not undo the others): opening, moving, winning and losing write the
ledger and the contract exactly as the browser does. Stage events go through ``ledger_import``.
Existing rows and references are read once per batch.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from leads.models import Lead
from leads.selectors import leads_by_reference, referenced_lead
from sync.bulk import BatchReport, fail_repeats, given, parse_batch
from sync.interchange import Parsed, values_equal

from ..interchange import OPPORTUNITIES, STAGE_EVENTS
from ..models import Opportunity
from ..stages import EventSource, LostReason, OpportunityKind, OpportunityStage, RejectionReason, Stage
from .history import HistoryEntry, ledger_import
from .moves import (
    StageTransitionError,
    live_move_refused,
    opportunity_create,
    opportunity_lose,
    opportunity_move,
    opportunity_win,
)


def error_dict(error: ValidationError, default_field: str = "non_field_errors") -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
    return {default_field: [str(m) for m in error.messages]}


def opportunities_upsert(
    *,
    workspace,
    records: list,
    actor=None,
    source: str = EventSource.API,
    pinned: Opportunity | None = None,
    clear_blanks: bool = False,
    require_key: bool = True,
    history: bool = True,
) -> BatchReport:
    """Create or update opportunities matched on ``external_id``; a change of ``stage`` is a
    move through the stage services, as a history's (the primary lead may go forward past stages
    never recorded; a move the table forbids otherwise is refused, with both stages named). The
    account, primary lead, kind and creation time of an existing deal are part of its ledger and
    do not change. ``history`` False (written by someone who may not import history): opening,
    winning and losing are live moves of the primary lead, held to the transition table."""
    report = BatchReport(len(records))
    parsed = parse_batch(OPPORTUNITIES, records, workspace, report)
    fail_repeats(parsed, report, "external_id")
    todo = report.open_indexes()
    if require_key and pinned is None:
        for i in todo:
            if "external_id" not in parsed[i].values:
                report.fail(i, {"external_id": ["Opportunities are matched on their external_id: send one."]})
    todo = report.open_indexes()
    keys = given(parsed, todo, "external_id")
    existing = {o.external_id: o for o in Opportunity.objects.filter(external_id__in=keys)} if keys else {}
    account_keys = given(parsed, todo, "account_external_id")
    accounts = {a.external_id: a for a in Account.objects.filter(external_id__in=account_keys)} if account_keys else {}
    lead_keys = given(parsed, todo, "lead_external_id")
    by_external, _ = leads_by_reference(external_ids=lead_keys, emails=[])
    leads = Lead.objects.in_bulk({row["id"] for row in by_external.values()})
    for i in todo:
        p = parsed[i]
        target = pinned if pinned is not None else existing.get(p.values.get("external_id"))
        errors: dict[str, list[str]] = {}
        if (
            pinned is not None
            and p.values.get("external_id") in existing
            and existing[p.values["external_id"]] != pinned
        ):
            errors["external_id"] = [f"external_id '{p.values['external_id']}' belongs to another opportunity."]
        account = _reference(p, "account_external_id", accounts, "account", errors)
        lead_row = by_external.get(p.values["lead_external_id"]) if "lead_external_id" in p.values else None
        if "lead_external_id" in p.values and lead_row is None:
            errors["lead_external_id"] = [
                f"No lead with the external_id '{p.values['lead_external_id']}' in this workspace."
            ]
        lead = leads.get(lead_row["id"]) if lead_row else None
        if clear_blanks and p.blanks - {"lost_reason", "closed_at"}:
            for name in p.blanks - {"lost_reason", "closed_at"}:
                errors[name] = [f"The {name} of an opportunity cannot be emptied."]
        if errors:
            report.fail(i, errors)
            continue
        for attempt in range(2):
            try:
                with transaction.atomic():
                    before = target.stage if target is not None else None
                    if target is None:
                        missing = OPPORTUNITIES.missing_to_create(p)
                        if missing:
                            raise ValidationError(missing)
                        target = _open(workspace, p, account, lead, actor, source, history)
                        status = "created"
                    else:
                        status = _update(workspace, target, p, account, lead, actor, source)
                    _move(workspace, target, p, actor, source, history)
                    if status == "unchanged" and target.stage != before:
                        status = "updated"
                report.succeed(i, status, target.pk)
                break
            except IntegrityError:
                # another request opened this external_id at the same moment: take it as existing
                target = Opportunity.objects.filter(external_id=p.values.get("external_id")).first()
                if target is None or attempt:
                    report.fail(
                        i, {"non_field_errors": ["Written by another request at the same moment; send it again."]}
                    )
                    break
            except StageTransitionError as error:
                refused = error if history or error.subject != "lead" else live_move_refused(error)
                report.fail(i, error_dict(refused, "stage"))
                break
            except ValidationError as error:
                report.fail(i, error_dict(error, "stage"))
                break
    return report


def _reference(p: Parsed, column: str, found: dict, label: str, errors: dict):
    if column not in p.values:
        return None
    row = found.get(p.values[column])
    if row is None:
        errors[column] = [f"No {label} with the external_id '{p.values[column]}' in this workspace."]
    return row


def _open(workspace, p: Parsed, account, lead, actor, source, history: bool) -> Opportunity:
    return opportunity_create(
        workspace=workspace,
        account=account,
        primary_lead=lead,
        name=p.values["name"],
        amount=p.values["amount"],
        kind=p.values.get("kind", OpportunityKind.NEW_BUSINESS),
        actor=actor,
        source=source,
        created_at=p.values.get("created_at"),
        external_id=p.values.get("external_id", ""),
        history=history,
    )


def _update(workspace, target: Opportunity, p: Parsed, account, lead, actor, source) -> str:
    errors = {}
    fixed = (
        ("account_external_id", account, target.account),
        ("lead_external_id", lead, target.primary_lead),
        ("kind", p.values.get("kind"), target.kind),
        ("created_at", p.values.get("created_at"), target.created_at),
    )
    for column, sent, current in fixed:
        if sent is not None and sent != current:
            errors[column] = [f"The {column} of an opportunity is part of its ledger and cannot change."]
    if target.closed_at and p.values.get("stage", target.stage) == target.stage:
        for column in ("closed_at", "lost_reason"):
            if column in p.values and p.values[column] != getattr(target, column):
                errors[column] = [
                    f"This deal closed ({target.stage}) on {target.closed_at:%Y-%m-%d}; {column} cannot change."
                ]
    if errors:
        raise ValidationError(errors)
    changes = {
        name: p.values[name]
        for name in ("name", "amount")
        if name in p.values and not values_equal(getattr(target, name), p.values[name])
    }
    if "external_id" in p.values and not target.external_id:
        changes["external_id"] = p.values["external_id"]
    if changes:
        changes["updated_at"] = timezone.now()
        Opportunity.objects.filter(pk=target.pk).update(**changes)
        for name, value in changes.items():
            setattr(target, name, value)
    return "updated" if changes else "unchanged"


def _move(workspace, target: Opportunity, p: Parsed, actor, source, history: bool) -> None:
    stage = p.values.get("stage")
    if stage is None or stage == target.stage:
        return
    if stage == OpportunityStage.WON:
        opportunity_win(
            workspace=workspace,
            opportunity=target,
            actor=actor,
            source=source,
            closed_at=p.values.get("closed_at"),
            history=history,
        )
    elif stage == OpportunityStage.LOST:
        reason = p.values.get("lost_reason")
        if reason is None:
            raise ValidationError(
                {"lost_reason": [f"A lost deal needs a lost_reason: {', '.join(LostReason.values)}."]}
            )
        opportunity_lose(
            workspace=workspace,
            opportunity=target,
            reason=reason,
            actor=actor,
            source=source,
            closed_at=p.values.get("closed_at"),
            note="imported" if reason == LostReason.OTHER else "",
            history=history,
        )
    else:
        opportunity_move(workspace=workspace, opportunity=target, to_stage=stage, actor=actor)


# --- stage events -------------------------------------------------------------------------------

_REASONS = {
    Stage.REJECTED: RejectionReason.values,
    # the recycled row written with a rejection carries its reason, and an export shows it
    Stage.RECYCLED: RejectionReason.values,
    Stage.LOST: LostReason.values,
    Stage.CHURNED: LostReason.values,
}


_REASON_NEEDED = frozenset({Stage.REJECTED, Stage.LOST})


@transaction.atomic
def stage_events_upsert(
    *, workspace, records: list, actor=None, source: str = EventSource.IMPORT, history: bool = True, **_
) -> BatchReport:
    """Import history into the ledger: each record is one entry of a lead into a stage, matched
    on lead, stage, time and opportunity (a resent history adds nothing), checked against the
    transition table from the entry before it (``ledger_import``). ``history`` False (written by
    someone who may not import history): each entry is a live move instead."""
    report = BatchReport(len(records))
    parsed = parse_batch(STAGE_EVENTS, records, workspace, report)
    todo = report.open_indexes()
    by_external, by_email = leads_by_reference(
        external_ids=given(parsed, todo, "lead_external_id"),
        emails=given(parsed, todo, "lead_email"),
    )
    keys = given(parsed, todo, "opportunity_external_id")
    opportunities = (
        dict(Opportunity.objects.filter(external_id__in=keys).values_list("external_id", "id")) if keys else {}
    )
    entries: dict[int, HistoryEntry] = {}
    for i in todo:
        p = parsed[i]
        errors: dict[str, list[str]] = {}
        errors |= STAGE_EVENTS.missing_to_create(p)
        lead = referenced_lead(p.values, by_external, by_email, errors)
        if lead is None and not errors.keys() & {"lead_external_id", "lead_email"}:
            errors["lead_external_id"] = ["A stage event names its lead: lead_external_id or lead_email."]
        opportunity_id = None
        if "opportunity_external_id" in p.values:
            opportunity_id = opportunities.get(p.values["opportunity_external_id"])
            if opportunity_id is None:
                errors["opportunity_external_id"] = [
                    f"No opportunity with the external_id '{p.values['opportunity_external_id']}' in this workspace."
                ]
        reason = p.values.get("reason", "")
        stage = p.values.get("stage")
        if reason and reason not in _REASONS.get(stage, ()):
            known = _REASONS.get(stage)
            errors["reason"] = (
                [f"'{reason}' is not a reason for '{stage}'. Known: {', '.join(known)}."]
                if known
                else [f"An entry into '{stage}' carries no reason."]
            )
        elif not reason and stage in _REASON_NEEDED:  # as lead_stage_move: the reason rule holds on every path
            errors["reason"] = [f"An entry into '{stage}' needs a reason: {', '.join(_REASONS[stage])}."]
        if errors:
            report.fail(i, errors)
            continue
        entries[i] = HistoryEntry(lead["id"], stage, p.values["entered_at"], opportunity_id, reason)
    outcomes = ledger_import(
        workspace=workspace, entries=list(entries.values()), source=source, actor=actor, history=history
    )
    for i, (status, message, event_id) in zip(entries, outcomes, strict=True):
        if status == "error":
            report.fail(i, {"stage": [message]})
        else:
            report.succeed(i, status, event_id)
    return report
