"""Importing history into the ledger: entries with their own times, in any order, in bulk.

A company bringing its past (the bulk API, a CSV of stage events, a lead's ``created_at``, a
touch older than anything known of its person) sends entries that may fall before, between or
after the ledger rows already there. Each entry is checked against the transition table from
the row just before it in time (none: it must be a first stage) and into the row just after it
(so an earlier capture than the one recorded is refused: the ledger is append-only), so no
history the table forbids gets in. As real systems' histories skip stages (a deal opened
straight from a contact, a person never scored), a move forward past stages never recorded is
taken and those stages stay implied, as the funnel counts them (``lead_history_move_allowed``).
An entry already present (same stage, time and opportunity) is left as it is, so a resent
history adds nothing. The lead's current stage follows an entry that is its
newest, or one its current stage may move to. The leads are locked for the batch, so a move in
the browser and an import of the same lead are serialized as ``lead_stage_move`` does.

Written by someone who may not import history (``history=False``: a sales rep's stage event over
the API), an entry is a live move instead: from the lead's current stage by the transition table,
dated no earlier than the lead's latest entry, and appended after it.
"""

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import Lead

from ..models import Opportunity, StageEvent
from ..moments import check_event_times
from ..stages import (
    HISTORY_SKIPS,
    LEAD_TRANSITIONS,
    EventSource,
    Stage,
    lead_history_move_allowed,
    lead_transition_allowed,
)
from .moves import DEAL_STAGES, HISTORY_NEEDS_IMPORT, StageTransitionError, _check_stage, live_move_refused


@dataclass
class HistoryEntry:
    lead_id: int
    stage: str
    entered_at: dt.datetime
    opportunity_id: int | None = None
    reason: str = ""
    note: str = ""


@dataclass
class _Row:
    stage: str
    entered_at: dt.datetime
    opportunity_id: int | None
    event: StageEvent | int | None = None  # the id, or the event about to be inserted


def _describe(error: Exception) -> str:
    return " ".join(getattr(error, "messages", [str(error)]))


@transaction.atomic
def ledger_import(
    *, workspace, entries: list[HistoryEntry], source: str = EventSource.IMPORT, actor=None, history: bool = True
) -> list[tuple[str, str]]:
    """Write the entries that are new and allowed; returns, per entry, its status
    (``created``, ``unchanged`` or ``error``), the error message and the event's id.
    ``history`` False: each entry is a live move (``_check_live``)."""
    results: list[tuple[str, str, int | None]] = [("error", "", None)] * len(entries)
    if not entries:
        return results
    lead_ids = sorted({e.lead_id for e in entries})
    leads = {
        row["id"]: row
        for row in Lead.objects.select_for_update()
        .filter(pk__in=lead_ids)
        .order_by("pk")
        .values("id", "stage", "stage_entered_at", "captured_at", "account_id")
    }
    opportunity_leads = dict(
        Opportunity.objects.filter(pk__in={e.opportunity_id for e in entries if e.opportunity_id}).values_list(
            "id", "primary_lead_id"
        )
    )
    ledgers: dict[int, list[_Row]] = defaultdict(list)
    for lead_id, stage, entered_at, opportunity_id, event_id in (
        StageEvent.objects.filter(lead_id__in=lead_ids)
        .order_by("lead_id", "entered_at", "id")
        .values_list("lead_id", "stage", "entered_at", "opportunity_id", "id")
    ):
        ledgers[lead_id].append(_Row(stage, entered_at, opportunity_id, event_id))

    new_events: list[StageEvent] = []
    changed: dict[int, dict] = {}
    order = sorted(range(len(entries)), key=lambda i: (entries[i].lead_id, entries[i].entered_at))
    for i in order:
        entry = entries[i]
        lead = leads.get(entry.lead_id)
        try:
            if lead is None:
                raise ValueError("No such lead in this workspace.")
            _check_stage(entry.stage)
            check_event_times(entered_at=entry.entered_at)
            _check_opportunity(entry, opportunity_leads)
            ledger = ledgers[entry.lead_id]
            same = next(
                (
                    row
                    for row in ledger
                    if (row.stage, row.entered_at, row.opportunity_id)
                    == (entry.stage, entry.entered_at, entry.opportunity_id)
                ),
                None,
            )
            if same is not None:
                results[i] = ("unchanged", "", same.event)
                continue
            if history:
                times = [row.entered_at for row in ledger]
                position = bisect.bisect_right(times, entry.entered_at)
                before = ledger[position - 1].stage if position else None
                if not lead_history_move_allowed(before, entry.stage):
                    raise StageTransitionError("lead", before, entry.stage, history=True)
                last = Stage.RECYCLED if entry.stage == Stage.REJECTED else entry.stage
                _check_following(entry, last, ledger[position:])
            else:
                before, position = _check_live(entry, lead, ledger), len(ledger)
        except Exception as error:  # a ValidationError or ValueError naming what was wrong
            results[i] = ("error", _describe(error), None)
            continue
        stages = [(entry.stage, entry.reason, entry.note, entry.opportunity_id)]
        if entry.stage == Stage.REJECTED:  # as lead_stage_move: recycled in the same instant
            stages.append((Stage.RECYCLED, entry.reason, "", None))
        created: list[StageEvent] = []
        for stage, reason, note, opportunity_id in stages:
            created.append(
                StageEvent(
                    workspace=workspace,
                    lead_id=entry.lead_id,
                    account_id=lead["account_id"],
                    opportunity_id=opportunity_id,
                    stage=stage,
                    from_stage=before or "",
                    entered_at=entry.entered_at,
                    source=source,
                    actor=actor,
                    reason=reason,
                    note=note,
                )
            )
            ledger.insert(position, _Row(stage, entry.entered_at, opportunity_id, created[-1]))
            position += 1
            before = stage
        new_events += created
        _follow(lead, stages[-1][0], entry, changed)
        results[i] = ("created", "", created[0])
    StageEvent.objects.bulk_create(new_events, batch_size=1000)
    results = [
        (status, message, event.pk if isinstance(event, StageEvent) else event) for status, message, event in results
    ]
    if changed:
        now = timezone.now()
        updates = []
        for lead_id, fields in changed.items():
            lead = Lead(pk=lead_id, updated_at=now, **{k: leads[lead_id][k] for k in fields})
            updates.append(lead)
        names = sorted({name for fields in changed.values() for name in fields} | {"updated_at"})
        Lead.objects.bulk_update(updates, names, batch_size=500)
    return results


def _check_live(entry: HistoryEntry, lead: dict, ledger: list[_Row]) -> str:
    """A live move: from the lead's current stage by the transition table, dated no earlier than
    its latest entry (so it is appended, as a move in the browser is); returns that stage."""
    latest_stage, latest_at = lead["stage"], lead["stage_entered_at"]
    if ledger and ledger[-1].entered_at > latest_at:  # the ledger is in time order
        latest_stage, latest_at = ledger[-1].stage, ledger[-1].entered_at
    if entry.entered_at < latest_at:
        raise ValidationError(
            f"The lead's latest entry is into '{latest_stage}' at {latest_at.isoformat()}; a live move "
            f"cannot be dated before it ({entry.entered_at.isoformat()}). {HISTORY_NEEDS_IMPORT}",
            code="illegal_transition",
        )
    if not lead_transition_allowed(lead["stage"], entry.stage):
        raise live_move_refused(StageTransitionError("lead", lead["stage"], entry.stage))
    return lead["stage"]


def _check_following(entry: HistoryEntry, last: str, later: list[_Row]) -> None:
    """The move from the entry (its last stage: a rejection ends recycled) into the ledger's
    next entry must be allowed too. A later ``touched`` entry names no move (the placeholder of
    a person recorded before their history arrived), so the first entry after it is checked."""
    after = next((row for row in later if row.stage != Stage.TOUCHED), None)
    if after is None or lead_history_move_allowed(last, after.stage):
        return
    when, then = entry.entered_at.isoformat(), after.entered_at.isoformat()
    if last == after.stage == Stage.LEAD:
        raise ValidationError(
            f"This lead entered stage lead at {then}; the ledger is append-only, so its capture time cannot "
            f"move to {when}.",
            code="illegal_transition",
        )
    allowed = ", ".join(sorted(LEAD_TRANSITIONS[last] | HISTORY_SKIPS.get(last, frozenset()))) or "none (a final stage)"
    raise ValidationError(
        f"An entry into '{entry.stage}' at {when} cannot come before the entry into '{after.stage}' at {then}: "
        f"cannot move lead from '{last}' to '{after.stage}'. Allowed from '{last}': {allowed}.",
        code="illegal_transition",
    )


def _check_opportunity(entry: HistoryEntry, opportunity_leads: dict[int, int]) -> None:
    if entry.stage in DEAL_STAGES:
        if entry.opportunity_id is None:
            raise ValueError(f"An entry into '{entry.stage}' names its opportunity (opportunity_external_id).")
        if opportunity_leads.get(entry.opportunity_id) != entry.lead_id:
            raise ValueError("That opportunity's primary lead is another lead.")


def _follow(lead: dict, stage: str, entry: HistoryEntry, changed: dict) -> None:
    """Move the lead's current stage when this entry is its newest, or a stage its current one
    may move to (a capture older than the placeholder 'touched' of a person recorded before
    their history arrived); keep ``captured_at`` the first entry into 'lead'."""
    fields = changed.setdefault(lead["id"], set())
    follows = entry.entered_at >= lead["stage_entered_at"] or lead_history_move_allowed(lead["stage"], stage)
    if follows and (lead["stage"], lead["stage_entered_at"]) != (stage, entry.entered_at):
        lead["stage"], lead["stage_entered_at"] = stage, entry.entered_at
        fields |= {"stage", "stage_entered_at"}
    if entry.stage == Stage.LEAD and (lead["captured_at"] is None or entry.entered_at < lead["captured_at"]):
        lead["captured_at"] = entry.entered_at
        fields.add("captured_at")
    if not fields:
        del changed[lead["id"]]
