"""Writing snapshots: the engine run as a service, one at a time per workspace.

``recompute_workspace`` takes the workspace's ``RecomputeState`` (or folds the request into the
run that holds it), records a running ``Snapshot`` whose progress a page can poll, reads and
computes, and then writes the whole result in one transaction. Readers only ever see snapshots
whose status is done, so a killed run leaves nothing half-written; the next run marks it failed.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import Account, TargetListMember
from attribution.models import Campaign, Touch
from leads.models import Lead

from .codec import encode
from .engine import compute, load_inputs
from .models import Contract, Opportunity, RecomputeState, Snapshot, StageEvent

logger = logging.getLogger(__name__)
STALE_AFTER = dt.timedelta(minutes=3)
KEEP_DONE = 3

ProgressPrinter = Callable[[str, int], None]


def source_marks(workspace) -> dict:
    """Cheap fingerprints of everything the engine reads (index-only maxima): when none moved,
    a new snapshot would be the same as the last one."""
    marks = {
        "touch_id": Touch.objects.aggregate(v=Max("id"))["v"],
        "event_id": StageEvent.objects.aggregate(v=Max("id"))["v"],
        "lead": Lead.objects.aggregate(v=Max("updated_at"))["v"],
        "opportunity": Opportunity.objects.aggregate(v=Max("updated_at"))["v"],
        "contract": Contract.objects.aggregate(v=Max("updated_at"))["v"],
        "campaign": Campaign.objects.aggregate(v=Max("updated_at"))["v"],
        "account": Account.objects.aggregate(v=Max("updated_at"))["v"],
        "targets": TargetListMember.objects.count(),
        "parameters": _parameters(workspace),
    }
    return {key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in marks.items()}


def _parameters(workspace) -> dict:
    return {
        "timezone": workspace.timezone,
        "lookback_days": workspace.attribution_lookback_days,
        "half_life_days": workspace.time_decay_half_life_days,
    }


def latest_done(workspace) -> Snapshot | None:
    return Snapshot.objects.filter(status=Snapshot.Status.DONE).order_by("-finished_at", "-id").first()


def workspace_needs_recompute(workspace, *, now: dt.datetime | None = None) -> bool:
    """Due when the workspace's interval has passed since its last snapshot and its data (or
    the engine's parameters) changed since."""
    now = now or timezone.now()
    last = latest_done(workspace)
    if last is None:
        return True
    if now - last.finished_at < dt.timedelta(minutes=workspace.recompute_interval_minutes):
        return False
    return last.source_marks != source_marks(workspace)


def _acquire(workspace) -> bool:
    now = timezone.now()
    RecomputeState.objects.get_or_create(workspace=workspace)
    taken = RecomputeState.objects.filter(Q(running_since__isnull=True) | Q(heartbeat_at__lt=now - STALE_AFTER)).update(
        running_since=now, heartbeat_at=now, pending=False
    )
    if not taken:
        RecomputeState.objects.update(pending=True)
    return bool(taken)


def _release_or_continue(workspace) -> bool:
    """Release the state, unless a request arrived meanwhile: then keep it and go again."""
    with transaction.atomic():
        state = RecomputeState.objects.select_for_update().get()
        if state.pending:
            RecomputeState.objects.update(pending=False, heartbeat_at=timezone.now())
            return True
        RecomputeState.objects.update(running_since=None, heartbeat_at=None)
        return False


def recompute_workspace(*, workspace, progress: ProgressPrinter | None = None) -> Snapshot | None:
    """Compute and store a new snapshot; returns it, or None when the request was folded into
    a run already under way (which will run once more to include it)."""
    if not _acquire(workspace):
        logger.info("recompute of %s folded into the run under way", workspace.slug)
        return None
    snapshot = None
    try:
        again = True
        while again:
            snapshot = _run_once(workspace, progress)
            again = _release_or_continue(workspace)
    except BaseException:
        RecomputeState.objects.update(running_since=None, heartbeat_at=None)
        raise
    return snapshot


def _run_once(workspace, progress: ProgressPrinter | None) -> Snapshot:
    started = time.perf_counter()
    # Runs killed before they finished are left 'running': say so, they never will finish.
    Snapshot.objects.filter(status=Snapshot.Status.RUNNING).update(
        status=Snapshot.Status.FAILED, error="interrupted before it finished", finished_at=timezone.now()
    )
    marks = source_marks(workspace)
    now = timezone.now()
    snapshot = Snapshot.objects.create(
        workspace=workspace, parameters=_parameters(workspace) | {"as_of": now.isoformat()}, source_marks=marks
    )

    def report(stage: str, percent: int) -> None:
        Snapshot.objects.filter(pk=snapshot.pk).update(progress_stage=stage, progress_percent=percent)
        RecomputeState.objects.update(heartbeat_at=timezone.now())
        if progress:
            progress(stage, percent)

    try:
        inputs = load_inputs(workspace, report)
        row_counts = inputs.row_counts()  # before compute, which lets the touch arrays go
        compute_started = time.perf_counter()
        arrays, labels = compute(
            inputs,
            timezone=workspace.timezone,
            lookback_days=workspace.attribution_lookback_days,
            half_life_days=float(workspace.time_decay_half_life_days),
            now_ms=int(now.timestamp() * 1000),
            progress=report,
        )
        timings = dict(inputs.timings) | {"compute": time.perf_counter() - compute_started}
        report("saving", 95)
        save_started = time.perf_counter()
        payload = encode(arrays)
        del arrays
        with transaction.atomic():
            Snapshot.objects.filter(pk=snapshot.pk).update(
                status=Snapshot.Status.DONE,
                finished_at=timezone.now(),
                progress_stage="done",
                progress_percent=100,
                arrays=payload,
                labels=labels,
                row_counts=row_counts,
                timings=timings | {"save": time.perf_counter() - save_started},
                duration_seconds=time.perf_counter() - started,
            )
            keep = list(
                Snapshot.objects.filter(status=Snapshot.Status.DONE)
                .order_by("-finished_at", "-id")
                .values_list("id", flat=True)[:KEEP_DONE]
            )
            Snapshot.objects.exclude(id__in=keep).exclude(status=Snapshot.Status.RUNNING).delete()
    except Exception as error:
        Snapshot.objects.filter(pk=snapshot.pk).update(
            status=Snapshot.Status.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    snapshot.refresh_from_db()
    return snapshot
