"""The writes of the scoring rules: a new workspace's defaults, an admin's change (audited, then a
whole-workspace rescore as a background job with progress), the job itself and the nightly
rescore; and the preview the scoring page shows before a change is saved."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.celery import enqueue_on_commit
from workspaces.audit import audit_record
from workspaces.models import AuditAction, AuditObjectType, Workspace

from .models import RescoreJob, ScoringRule
from .rescoring import QUALIFYING_STAGES, LeadSet, rescore_workspace, score_set
from .scoring import COUNTRY, DEFAULT_RULES, EMPLOYEES, MAX_SCORE, TOUCH, Rule, rules_of

RESCORE_QUEUED_LOST = dt.timedelta(minutes=2)
RESCORE_RUNNING_ABANDONED = dt.timedelta(minutes=30)


def _rows(workspace, rules) -> list[ScoringRule]:
    return [
        ScoringRule(
            workspace=workspace,
            kind=rule.kind,
            value=rule.value,
            points=rule.points,
            half_life_days=rule.half_life_days,
            min_employees=rule.min_employees,
            max_employees=rule.max_employees,
        )
        for rule in rules
    ]


@transaction.atomic
def scoring_rules_create_defaults(*, workspace) -> int:
    """Give a workspace ``leads.scoring.DEFAULT_RULES`` (idempotent: a workspace that has rules
    keeps them). Called for every new workspace (``workspaces.signals.workspace_created``)."""
    if ScoringRule.objects.filter(workspace=workspace).exists():
        return 0
    return len(ScoringRule.objects.bulk_create(_rows(workspace, DEFAULT_RULES)))


def _key(rule: Rule) -> str:
    if rule.kind == EMPLOYEES:
        return f"employees:{'' if rule.min_employees is None else rule.min_employees}-" + (
            "" if rule.max_employees is None else str(rule.max_employees)
        )
    return f"{rule.kind}:{rule.value}"


def _described(rule: Rule) -> dict:
    described: dict = {"points": rule.points}
    if rule.kind == TOUCH:
        described["half_life_days"] = rule.half_life_days
    return described


def _validated(workspace, rules: list[Rule], mql_threshold: int) -> list[Rule]:
    errors: dict[str, list[str]] = {}
    if not 1 <= mql_threshold <= MAX_SCORE:
        errors["mql_threshold"] = [_("The threshold is a score from 1 to 100.")]
    seen: set[str] = set()
    for row in _rows(workspace, rules):
        try:
            row.full_clean(exclude=["workspace"])
        except ValidationError as error:
            errors.setdefault(row.kind, []).extend(error.messages)
        if row.kind == EMPLOYEES:
            if row.min_employees is None and row.max_employees is None:
                errors.setdefault(row.kind, []).append(_("An employee range needs a lower or an upper bound."))
            elif None not in (row.min_employees, row.max_employees) and row.min_employees > row.max_employees:
                errors.setdefault(row.kind, []).append(_("An employee range's lower bound is above its upper bound."))
        elif not row.value.strip():
            errors.setdefault(row.kind, []).append(_("A rule needs a value."))
        if row.kind != TOUCH and row.half_life_days:
            errors.setdefault(row.kind, []).append(_("Only touches have a half-life."))
    for rule in rules:
        key = _key(rule).lower()
        if key in seen:
            errors.setdefault(rule.kind, []).append(_("%(rule)s is given twice.") % {"rule": _key(rule)})
        seen.add(key)
    if errors:
        raise ValidationError(errors)
    return [
        Rule(
            kind=r.kind,
            value=r.value.strip().upper() if r.kind == COUNTRY else r.value.strip(),
            points=r.points,
            half_life_days=r.half_life_days or None,
            min_employees=r.min_employees,
            max_employees=r.max_employees,
        )
        for r in rules
    ]


def scoring_preview(*, workspace, rules: list[Rule], mql_threshold: int, now: dt.datetime | None = None) -> int:
    """How many leads a change would qualify now: those in lead or recycled, under today's
    threshold, whose score by ``rules`` reaches ``mql_threshold`` (what the rescore job after the
    change will move). Set-based, nothing is written."""
    candidates = LeadSet("l.stage IN (%s, %s) AND l.score < %s", (*QUALIFYING_STAGES, workspace.mql_threshold))
    scored = score_set(workspace=workspace, rules=rules, leads=candidates, now=now or timezone.now())
    return int((scored.new >= mql_threshold).sum())


@transaction.atomic
def scoring_rules_save(*, workspace, rules: list[Rule], mql_threshold: int, actor=None) -> RescoreJob | None:
    """Replace the workspace's scoring rules and MQL threshold. What changed is written to the
    audit trail (``scoring.changed``: each rule's points before and after) and a rescore of the
    whole workspace is queued (``RescoreJob``, sent after the commit; a broker that is down loses
    nothing: ``leads.tasks.enqueue_waiting_rescores`` sends it later). Returns the job, or None
    when nothing changed."""
    rules = _validated(workspace, rules, mql_threshold)
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = {_key(rule): _described(rule) for rule in rules_of(workspace)}
    after = {_key(rule): _described(rule) for rule in rules}
    changes = {
        key: [before.get(key), after.get(key)] for key in sorted(before | after) if before.get(key) != after.get(key)
    }
    previous_threshold = locked.mql_threshold
    if mql_threshold != previous_threshold:
        changes["mql_threshold"] = [previous_threshold, mql_threshold]
    if not changes:
        return None
    ScoringRule.objects.filter(workspace=workspace).delete()
    ScoringRule.objects.bulk_create(_rows(workspace, rules))
    Workspace.objects.filter(pk=workspace.pk).update(mql_threshold=mql_threshold)
    workspace.mql_threshold = mql_threshold
    audit_record(
        workspace=workspace,
        actor=actor,
        action=AuditAction.SCORING_CHANGED,
        object_type=AuditObjectType.WORKSPACE,
        object_id=workspace.pk,
        payload={"changes": changes},
    )
    job = RescoreJob.objects.create(workspace=workspace, previous_threshold=previous_threshold, created_by=actor)
    from .tasks import run_rescore_job

    enqueue_on_commit(run_rescore_job, job.pk)
    return job


def rescore_job_run(*, job: RescoreJob) -> RescoreJob:
    """Rescore the job's workspace, writing progress as it goes. A job already taken (running,
    done, failed) is left as it is, unless its worker died long ago; running it again is safe
    (the second rescore finds nothing changed)."""
    now = timezone.now()
    claimed = (
        RescoreJob.objects.filter(pk=job.pk)
        .filter(
            Q(status=RescoreJob.Status.QUEUED)
            | Q(status=RescoreJob.Status.RUNNING, started_at__lt=now - RESCORE_RUNNING_ABANDONED)
        )
        .update(status=RescoreJob.Status.RUNNING, started_at=now, leads_done=0, error="")
    )
    if not claimed:
        job.refresh_from_db()
        return job

    def progress(done: int, total: int) -> None:
        RescoreJob.objects.filter(pk=job.pk).update(leads_done=done, leads_total=total)

    try:
        scored = rescore_workspace(
            workspace=job.workspace, previous_threshold=job.previous_threshold, progress=progress
        )
    except Exception as error:
        RescoreJob.objects.filter(pk=job.pk).update(
            status=RescoreJob.Status.FAILED,
            error=f"The rescore stopped: {type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    RescoreJob.objects.filter(pk=job.pk).update(
        status=RescoreJob.Status.DONE,
        leads_total=len(scored.ids),
        leads_done=len(scored.ids),
        changed=scored.changed,
        qualified=len(scored.qualified),
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def workspace_rescore_nightly(*, workspace) -> int:
    """The nightly rescore: touches age (a half-life lowers their points; the window drops the
    oldest) and accounts change, so every lead is scored again; a lead that crosses the
    threshold qualifies. Returns how many scores changed."""
    return rescore_workspace(workspace=workspace).changed
