import datetime as dt
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from funnel.moments import check_event_times
from funnel.services import HistoryEntry, lead_first_event, ledger_import
from funnel.stages import FUNNEL_STAGES, EventSource, Stage
from sync.bulk import BatchReport, fail_open, fail_repeats, given, insert_ignoring_conflicts, parse_batch
from sync.interchange import Parsed
from workspaces.audit import audit_record
from workspaces.models import AuditAction, AuditObjectType, Membership, Role
from workspaces.scoping import ensure_same_workspace
from workspaces.selectors import member_ids_by_email

from .interchange import LEADS
from .models import Lead, LeadMerge
from .normalize import normalize_email
from .rescoring import LeadSet, score_set, write_scores
from .rescoring import qualify as qualify_leads
from .scoring import rules_of
from .selectors import leads_by_keys, survivor

# Copied as they are from a record to the lead.
PLAIN_FIELDS = ("first_name", "last_name", "title", "seniority", "department", "phone")
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone")


@transaction.atomic
def lead_create(
    *,
    workspace,
    email: str,
    stage: str = Stage.LEAD,
    entered_at: dt.datetime | None = None,
    account=None,
    owner=None,
    actor=None,
    source: str = EventSource.UI,
    external_id: str = "",
    **fields,
) -> Lead:
    """Create a person in their first stage (``lead`` when captured, ``touched`` when only
    reached) and write that first ledger row. The email is normalized; a second lead with the
    same email in the workspace is refused with a message naming it."""
    email = normalize_email(email)
    ensure_same_workspace(workspace, account=account)
    check_event_times(ahead=True, entered_at=entered_at)
    if stage not in (Stage.TOUCHED, Stage.LEAD):
        raise ValidationError(
            {"stage": f"A new person starts in 'touched' or 'lead', not '{stage}'; later stages are moves."}
        )
    if Lead.objects.filter(email=email).exists():
        raise ValidationError({"email": f"A lead with the email {email} already exists in this workspace."})
    entered_at = entered_at or timezone.now()
    lead = Lead(
        workspace=workspace,
        email=email,
        account=account,
        owner=owner,
        stage=stage,
        stage_entered_at=entered_at,
        external_id=external_id,
        captured_at=entered_at if stage == Stage.LEAD else None,
        created_at=entered_at,
        updated_at=timezone.now(),
        **fields,
    )
    lead.full_clean(exclude=["workspace", "account", "owner"], validate_constraints=False)
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError:
        # A concurrent request created the same email or external_id between the check and the insert.
        raise ValidationError(
            {"email": f"A lead with the email {email} (or external id '{external_id}') already exists."}
        ) from None
    lead_first_event(workspace=workspace, lead=lead, source=source, actor=actor)
    leads_rescore(workspace=workspace, lead_ids=[lead.pk], qualify=False)
    lead.refresh_from_db(fields=["score", "updated_at", "sync_version"])
    return lead


# --- the bulk upsert (the API's bulk endpoint, its create and update, and the CSV import) ----

_EXISTING = (
    "id",
    "email",
    "external_id",
    *PLAIN_FIELDS,
    "account_id",
    "owner_id",
    "captured_at",
    "erased_at",
    "merged_into_id",
)


def _references(parsed: list[Parsed], indexes: list[int]) -> tuple[dict[str, int], dict[str, int]]:
    """Accounts by external id and members by email, for the whole batch (one query each)."""
    from accounts.models import Account

    keys = given(parsed, indexes, "account_external_id")
    accounts = dict(Account.objects.filter(external_id__in=keys).values_list("external_id", "id")) if keys else {}
    owners = member_ids_by_email(given(parsed, indexes, "owner_email"))
    return accounts, owners


def leads_upsert(
    *,
    workspace,
    records: list,
    actor=None,
    source: str = EventSource.API,
    pinned: Lead | None = None,
    clear_blanks: bool = False,
    **_,
) -> BatchReport:
    """Create or update leads, matched on ``external_id`` and then on normalized email.

    A record whose ``external_id`` names one lead and whose email names another is refused,
    naming both: nothing is merged silently. Empty values leave a field as it is, unless
    ``clear_blanks`` (a PATCH of one lead, ``pinned``). A new lead with a ``created_at`` is
    captured then (stage ``lead``); without one it is a person reached but not captured
    (``touched``). An existing lead's first ``created_at`` is imported into its ledger.
    """
    report = BatchReport(len(records))
    parsed = parse_batch(LEADS, records, workspace, report)
    fail_repeats(parsed, report, "external_id", "email")
    for _ in range(2):  # a second pass takes the records a concurrent batch created meanwhile
        if not report.open_indexes() or not _leads_pass(workspace, parsed, report, actor, source, pinned, clear_blanks):
            break
    fail_open(report)
    return report


@transaction.atomic
def _leads_pass(workspace, parsed, report, actor, source, pinned, clear_blanks) -> bool:
    """One pass over the open records; returns whether some new ones lost a race (and are open)."""
    todo = report.open_indexes()
    now = timezone.now()
    by_id, by_email, by_external = leads_by_keys(
        fields=_EXISTING,
        emails=given(parsed, todo, "email"),
        external_ids=given(parsed, todo, "external_id"),
    )
    if pinned is not None and pinned.pk not in by_id:
        by_id[pinned.pk] = Lead.objects.filter(pk=pinned.pk).values(*_EXISTING).get()
    accounts, owners = _references(parsed, todo)
    creates: dict[int, dict] = {}
    updates: dict[int, tuple[dict, dict]] = {}  # index -> (existing row, changes)
    captures: dict[int, HistoryEntry] = {}
    for i in todo:
        p = parsed[i]
        errors: dict[str, list[str]] = {}
        external_id, email = p.values.get("external_id"), p.values.get("email")
        by_ext = survivor(by_id, by_external.get(external_id))
        by_mail = survivor(by_id, by_email.get(email))
        target = survivor(by_id, pinned.pk) if pinned is not None else by_ext or by_mail
        if pinned is not None:
            if by_ext and by_ext["id"] != target["id"]:
                errors["external_id"] = [
                    gettext("external_id '%(external_id)s' belongs to another lead (#%(id)s).")
                    % {"external_id": external_id, "id": by_ext["id"]}
                ]
            if by_mail and by_mail["id"] != target["id"]:
                errors["email"] = [
                    gettext("%(email)s belongs to another lead (#%(id)s).") % {"email": email, "id": by_mail["id"]}
                ]
        elif by_ext and by_mail and by_ext["id"] != by_mail["id"]:
            errors["email"] = [
                gettext(
                    "external_id '%(external_id)s' names lead #%(id)s (%(its_email)s) but %(email)s belongs to lead "
                    "#%(other_id)s; nothing was merged. Merge the two leads or fix the record."
                )
                % {
                    "external_id": external_id,
                    "id": by_ext["id"],
                    "its_email": by_ext["email"] or gettext("erased"),
                    "email": email,
                    "other_id": by_mail["id"],
                }
            ]
        elif target is not None and target["erased_at"] is not None:
            errors["external_id"] = [
                gettext(
                    "external_id '%(external_id)s' names a lead whose personal data was erased on %(date)s; "
                    "it is not created again."
                )
                % {"external_id": external_id, "date": f"{target['erased_at']:%Y-%m-%d}"}
            ]
        elif by_mail and not by_ext and external_id and by_mail["external_id"] not in ("", external_id):
            errors["external_id"] = [
                gettext("%(email)s belongs to lead #%(id)s, whose external_id is '%(its_id)s', not '%(external_id)s'.")
                % {"email": email, "id": by_mail["id"], "its_id": by_mail["external_id"], "external_id": external_id}
            ]
        values = _resolved(p, accounts, owners, errors)
        # the email or external id of a lead merged into this one: it already leads here, and
        # the tombstone keeps it
        if target is not None and by_email.get(email, target["id"]) != target["id"]:
            values.pop("email")
        if target is not None and by_external.get(external_id, target["id"]) != target["id"]:
            values.pop("external_id")
        created_at = p.values.get("created_at")
        if errors:
            report.fail(i, errors)
            continue
        if target is None:
            if "email" not in values:
                report.fail(i, {"email": [gettext("An email is required to create a lead.")]})
                continue
            creates[i] = _new_lead_row(workspace, values, created_at, now)
            continue
        changes = {name: value for name, value in values.items() if target.get(name) != value}
        if clear_blanks:
            blank_errors = _cleared(p.blanks, target, changes)
            if blank_errors:
                report.fail(i, blank_errors)
                continue
        if created_at is not None:
            if target["captured_at"] is None:
                captures[i] = HistoryEntry(target["id"], Stage.LEAD, created_at)
            elif target["captured_at"] != created_at:
                report.fail(
                    i,
                    {
                        "created_at": [
                            f"This lead entered stage lead at {target['captured_at'].isoformat()}; the ledger "
                            f"is append-only, so its capture time cannot move to {created_at.isoformat()}."
                        ]
                    },
                )
                continue
        updates[i] = (target, changes)

    raced = _insert_leads(workspace, creates, report, actor, source)
    if captures:
        indexes = list(captures)
        outcomes = ledger_import(workspace=workspace, entries=list(captures.values()), source=source, actor=actor)
        for index, (status, message, _) in zip(indexes, outcomes, strict=True):
            if status == "error":
                report.fail(index, {"created_at": [message]})
                updates.pop(index, None)
    changed = {i: (row, changes) for i, (row, changes) in updates.items() if changes}
    if changed:
        _apply_changes(changed, now)
    for i, (row, changes) in updates.items():
        report.succeed(i, "updated" if changes or i in captures else "unchanged", row["id"])
    # New leads are scored by their fit; a changed seniority or account changes the fit.
    created = [report.results[i]["id"] for i in creates if report.results[i] and report.results[i]["id"]]
    if created:
        leads_rescore(workspace=workspace, lead_ids=created, source=source, qualify=False)
    rescore = [row["id"] for row, changes in changed.values() if {"seniority", "account_id"} & set(changes)]
    if rescore:
        leads_rescore(workspace=workspace, lead_ids=rescore, source=source)
    return raced


def _resolved(parsed: Parsed, accounts: dict, owners: dict, errors: dict) -> dict:
    """The record's values as model fields (references resolved to ids)."""
    values = {name: parsed.values[name] for name in ("external_id", "email", *PLAIN_FIELDS) if name in parsed.values}
    if "account_external_id" in parsed.values:
        key = parsed.values["account_external_id"]
        if key in accounts:
            values["account_id"] = accounts[key]
        else:
            errors["account_external_id"] = [
                gettext("No account with the external_id '%(key)s' in this workspace.") % {"key": key}
            ]
    if "owner_email" in parsed.values:
        email = parsed.values["owner_email"]
        if email in owners:
            values["owner_id"] = owners[email]
        else:
            errors["owner_email"] = [gettext("%(email)s is not a member of this workspace.") % {"email": email}]
    return values


def _cleared(blanks: set, target: dict, changes: dict) -> dict:
    errors = {}
    for name in blanks:
        if name == "email" or (name == "created_at" and target["captured_at"] is not None):
            errors[name] = [
                gettext("The %(column)s of a lead cannot be emptied (its ledger keeps it).") % {"column": name}
            ]
        elif name == "account_external_id" and target["account_id"] is not None:
            changes["account_id"] = None
        elif name == "owner_email" and target["owner_id"] is not None:
            changes["owner_id"] = None
        elif name in (*PLAIN_FIELDS, "external_id") and target[name] != "":
            changes[name] = ""
    return errors


def _new_lead_row(workspace, values: dict, created_at, now) -> dict:
    entered = created_at or now
    row = dict.fromkeys(PLAIN_FIELDS, "") | {
        "workspace_id": workspace.pk,
        "external_id": "",
        "account_id": None,
        "owner_id": None,
        "merged_into_id": None,
        "erased_at": None,
    }
    row |= values
    row |= {
        "stage": Stage.LEAD if created_at else Stage.TOUCHED,
        "stage_entered_at": entered,
        "captured_at": created_at,
        "score": 0,  # the rules score it once inserted (``leads_rescore``)
        "created_at": entered,
        "updated_at": now,
        "sync_version": 0,
    }
    return row


def _insert_leads(workspace, creates: dict[int, dict], report: BatchReport, actor, source) -> bool:
    """Insert the new leads in email order (overlapping batches lock in one order: no deadlock)
    and write their first ledger rows; a lead another batch inserted first stays open."""
    if not creates:
        return False
    from funnel.models import StageEvent

    order = sorted(creates, key=lambda i: creates[i]["email"])
    ids = insert_ignoring_conflicts(Lead, [creates[i] for i in order], key="email")
    events = []
    now = timezone.now()
    for i in order:
        row = creates[i]
        lead_id = ids.get(row["email"])
        if lead_id is None:
            continue
        report.succeed(i, "created", lead_id)
        events.append(
            {
                "workspace_id": workspace.pk,
                "lead_id": lead_id,
                "account_id": row["account_id"],
                "opportunity_id": None,
                "stage": row["stage"],
                "from_stage": "",
                "entered_at": row["stage_entered_at"],
                "source": source,
                "actor_id": getattr(actor, "pk", None),
                "reason": "",
                "note": "",
                "recorded_at": now,
                "sync_version": 0,
            }
        )
    insert_ignoring_conflicts(StageEvent, events, key=None)
    return len(events) < len(creates)


def _apply_changes(changed: dict, now) -> None:
    names = sorted({name for _, changes in changed.values() for name in changes} | {"updated_at"})
    objects = []
    for row, changes in changed.values():
        current = {name: row.get(name) for name in names if name != "updated_at"}
        objects.append(Lead(pk=row["id"], updated_at=now, **(current | changes)))
    Lead.objects.bulk_update(objects, names, batch_size=500)


# --- scoring, qualification and the handoff ---------------------------------------------------


def leads_rescore(
    *,
    workspace,
    lead_ids,
    source: str = EventSource.RULE,
    now: dt.datetime | None = None,
    qualify: bool = True,
) -> list[int]:
    """Recompute the scores of these leads by the workspace's scoring rules (their fit, and
    their touches in the engagement window: ``leads.rescoring``, two bulk reads and one bulk
    write of the scores that changed), and qualify the ones that reach the workspace's MQL
    threshold from ``lead`` or ``recycled``: they become MQLs and are handed off to sales.
    Returns the ids of the leads handed off. The browser, the API and the CSV import all come
    through here after recording touches; new leads and leads whose seniority or account
    changed come with ``qualify=False`` (a new person qualifies by what they do, not on entry).
    The whole workspace is rescored by ``leads.rescoring.rescore_workspace``."""
    now = now or timezone.now()
    ids = {int(i) for i in lead_ids}
    if not ids:
        return []
    scored = score_set(workspace=workspace, rules=rules_of(workspace), leads=LeadSet.ids(ids), now=now)
    write_scores(workspace=workspace, scored=scored, now=now)
    if not qualify:
        return []
    reached = scored.ids[scored.open & (scored.new >= workspace.mql_threshold)]
    return qualify_leads(workspace=workspace, lead_ids=reached.tolist(), source=EventSource.RULE)


def _route(workspace, lead: Lead) -> int | None:
    """Who gets an MQL: its owner or its account's owner when they are a sales rep here, else
    the rep with the fewest MQLs waiting (ties: the longest-standing member)."""
    reps = list(
        Membership.objects.filter(role=Role.SALES_REP).order_by("created_at", "id").values_list("user_id", flat=True)
    )
    if not reps:
        return None
    for candidate in (lead.owner_id, lead.account.owner_id if lead.account else None):
        if candidate in reps:
            return candidate
    waiting = dict(
        Lead.objects.filter(stage=Stage.MQL, owner_id__in=reps)
        .values_list("owner_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return min(reps, key=lambda rep: waiting.get(rep, 0))


@transaction.atomic
def lead_hand_off(*, workspace, lead: Lead) -> Lead:
    """Hand an MQL to sales: route it to a rep, and tell the webhooks."""
    from sync.models import WebhookEvent
    from sync.services import webhook_emit

    owner_id = _route(workspace, lead)
    if owner_id != lead.owner_id:
        Lead.objects.filter(pk=lead.pk).update(owner_id=owner_id, updated_at=timezone.now())
        lead.owner_id = owner_id
    webhook_emit(workspace=workspace, event=WebhookEvent.LEAD_HANDED_OFF, payload=lead_payload(lead))
    return lead


def lead_payload(lead: Lead) -> dict:
    from workspaces.models import User

    owner_email = (
        User.objects.filter(pk=lead.owner_id).values_list("email", flat=True).first() if lead.owner_id else None
    )
    return {
        "lead": {
            "id": lead.pk,
            "external_id": lead.external_id,
            "email": lead.email,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "stage": lead.stage,
            "score": lead.score,
            "owner_email": owner_email,
        }
    }


# --- erasure and merge ------------------------------------------------------------------------


@transaction.atomic
def lead_erase(*, workspace, lead: Lead, actor=None) -> Lead:
    """Delete a lead as far as anyone can see: its personal data (email, names, phone) is
    erased, it leaves every list, and the change feed shows a tombstone; its touches and ledger
    rows stay, without the person, so history and metrics stay right."""
    from attribution.models import Touch
    from funnel.models import Opportunity
    from sync.models import Tombstone

    ensure_same_workspace(workspace, lead=lead)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.erased_at is not None or locked.merged_into_id is not None:
        raise ValidationError("This lead was already deleted or merged.")
    now = timezone.now()
    changes = dict.fromkeys(PERSONAL_FIELDS, "") | {"erased_at": now, "updated_at": now}
    Lead.objects.filter(pk=lead.pk).update(**changes)
    # Touches and opportunities show their lead's email: they change too, so that a system
    # syncing them through the feed drops the address as well.
    Touch.objects.filter(lead_id=lead.pk).update(updated_at=now)
    Opportunity.objects.filter(primary_lead_id=lead.pk).update(updated_at=now)
    Tombstone.objects.create(
        workspace=workspace, resource="leads", record_id=lead.pk, external_id=locked.external_id, kind="deleted"
    )
    # Who erased whom, without the person: the trail is append-only and cannot be erased in turn.
    audit_record(
        workspace=workspace,
        actor=actor,
        action=AuditAction.LEAD_ERASED,
        object_type=AuditObjectType.LEAD,
        object_id=lead.pk,
        payload={"external_id": locked.external_id},
    )
    for name, value in changes.items():
        setattr(lead, name, value)
    return lead


def _merged_stage(rows) -> tuple[str, dt.datetime] | None:
    """The merged person's current stage and its entry time, from both ledgers' rows (lead id,
    stage, entered_at, id): the newest entry of the person who reached the furthest funnel stage,
    so a merge never moves anyone back (a survivor at 'lead' merged with a loser at 'touched'
    stays a lead); when both reached the same stage, the newer of their newest entries."""
    furthest: dict[int, int] = defaultdict(lambda: -1)
    newest: dict[int, tuple] = {}
    for lead_id, stage, entered_at, event_id in rows:
        if stage in FUNNEL_STAGES:
            furthest[lead_id] = max(furthest[lead_id], FUNNEL_STAGES.index(stage))
        if lead_id not in newest or (entered_at, event_id) > newest[lead_id][:2]:
            newest[lead_id] = (entered_at, event_id, stage)
    if not newest:
        return None
    chosen = max(newest, key=lambda lead_id: (furthest[lead_id], newest[lead_id][:2]))
    entered_at, _, stage = newest[chosen]
    return stage, entered_at


@transaction.atomic
def lead_merge(*, workspace, survivor: Lead, loser: Lead, actor=None, source: str = EventSource.UI) -> LeadMerge:
    """Merge two records of one person. The loser's touches, ledger rows and opportunities move
    to the survivor; the survivor keeps its values and takes the loser's where its own are
    empty; its current stage is that of the person who went further down the funnel
    (``_merged_stage``); the loser stays as a tombstone pointing at the survivor, so its email
    and external id lead there from now on."""
    from attribution.models import Touch
    from funnel.models import Opportunity, StageEvent
    from sync.models import Tombstone

    from .first_touch import leads_first_touch_refresh

    ensure_same_workspace(workspace, survivor=survivor, loser=loser)
    if survivor.pk == loser.pk:
        raise ValidationError("A lead cannot be merged into itself.")
    locked = {
        lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=[survivor.pk, loser.pk]).order_by("pk")
    }
    keep, gone = locked[survivor.pk], locked[loser.pk]
    for lead, role in ((keep, "survivor"), (gone, "loser")):
        if lead.erased_at is not None or lead.merged_into_id is not None:
            raise ValidationError({role: f"Lead #{lead.pk} was already deleted or merged."})
    stage = _merged_stage(
        StageEvent.objects.filter(lead_id__in=[keep.pk, gone.pk]).values_list("lead_id", "stage", "entered_at", "id")
    )
    moved = {
        "touches": Touch.objects.filter(lead=gone).update(lead=keep, updated_at=timezone.now()),
        "stage_events": StageEvent.objects.filter(lead=gone).update(lead=keep),
        "opportunities": Opportunity.objects.filter(primary_lead=gone).update(
            primary_lead=keep, updated_at=timezone.now()
        ),
    }
    now = timezone.now()
    changes: dict = {"updated_at": now}
    for name in (*PLAIN_FIELDS, "account_id", "owner_id"):
        if getattr(keep, name) in ("", None) and getattr(gone, name) not in ("", None):
            changes[name] = getattr(gone, name)
    if stage is not None:
        changes |= {"stage": stage[0], "stage_entered_at": stage[1]}
    captures = [t for t in (keep.captured_at, gone.captured_at) if t is not None]
    changes["captured_at"] = min(captures) if captures else None
    Lead.objects.filter(pk=keep.pk).update(**changes)
    Lead.objects.filter(pk=gone.pk).update(merged_into=keep, updated_at=now)
    merge = LeadMerge.objects.create(
        workspace=workspace,
        survivor=keep,
        loser=gone,
        loser_email=gone.email,
        loser_external_id=gone.external_id,
        moved=moved,
        actor=actor,
        source=source,
    )
    # ids only: the loser's email stays in LeadMerge (where an erasure can reach it), not here
    audit_record(
        workspace=workspace,
        actor=actor,
        action=AuditAction.LEAD_MERGED,
        object_type=AuditObjectType.LEAD,
        object_id=keep.pk,
        payload={
            "survivor": {"id": keep.pk, "external_id": keep.external_id},
            "loser": {"id": gone.pk, "external_id": gone.external_id},
            "moved": moved,
            "source": source,
        },
    )
    Tombstone.objects.create(
        workspace=workspace,
        resource="leads",
        record_id=gone.pk,
        external_id=gone.external_id,
        kind="merged",
        merged_into_id=keep.pk,
    )
    leads_first_touch_refresh(workspace=workspace, lead_ids=[keep.pk])
    leads_rescore(workspace=workspace, lead_ids=[keep.pk], source=source)
    survivor.refresh_from_db()
    loser.refresh_from_db()
    return merge


# --- one lead changed in the browser --------------------------------------------------------------

EDITABLE_FIELDS = ("email", *PLAIN_FIELDS, "account", "owner")


@transaction.atomic
def lead_update(*, workspace, lead: Lead, actor=None, source: str = EventSource.UI, **changes) -> Lead:
    """Change one lead's details, account or owner (the lead page's form), checked as the API's
    writes are: the email normalized and unique in the workspace, the account of this workspace.
    Only the fields given and different are written; a change that moves the fit points
    (seniority, account) rescores the lead (without qualifying it, as for a new lead). An
    erased or merged lead is refused."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"lead_update cannot change {', '.join(sorted(unknown))}")
    ensure_same_workspace(workspace, lead=lead, account=changes.get("account"))
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.erased_at is not None or lead.merged_into_id is not None:
        raise ValidationError(f"Lead #{lead.pk} was deleted or merged: it cannot change.")
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
        if Lead.objects.filter(email=changes["email"]).exclude(pk=lead.pk).exists():
            message = f"A lead with the email {changes['email']} already exists in this workspace."
            raise ValidationError({"email": message})
    changed = [name for name, value in changes.items() if getattr(lead, name) != value]
    if not changed:
        return lead
    for name in changed:
        setattr(lead, name, changes[name])
    lead.updated_at = timezone.now()
    lead.full_clean(exclude=["workspace", "account", "owner", "merged_into"], validate_constraints=False)
    lead.save(update_fields=[*changed, "updated_at"])
    if {"seniority", "account"} & set(changed):
        # a changed fit rescores but does not qualify: a person qualifies by what they do
        leads_rescore(workspace=workspace, lead_ids=[lead.pk], source=source, qualify=False)
        lead.refresh_from_db()
    return lead
