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

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from accounts.models import Account, TargetListMember
from attribution.models import Campaign, Channel, Touch
from leads.models import Lead
from sync.models import Tombstone

from .codec import encode
from .engine import compute, load_inputs
from .models import Contract, Opportunity, RecomputeState, Snapshot, StageEvent

logger = logging.getLogger(__name__)
STALE_AFTER = dt.timedelta(minutes=3)
KEEP_DONE = 3

ProgressPrinter = Callable[[str, int], None]


# The tables the engine reads whose rows carry ``sync_version`` (sync.versioning), and the
# tombstones that deleting or merging their rows writes.
VERSIONED = {
    "tombstones": Tombstone,
    "touches": Touch,
    "events": StageEvent,
    "leads": Lead,
    "opportunities": Opportunity,
    "contracts": Contract,
    "campaigns": Campaign,
    "accounts": Account,
}


def source_marks(workspace, *, horizon: int | None = None) -> dict:
    """Fingerprints of everything the engine reads, one aggregate query per table: when none
    moved, a new snapshot would be the same as the last one.

    A versioned table's mark is its largest ``sync_version`` (the database's triggers bump it on
    every insert and update, whatever the code path), read off the version index; a deletion
    writes a tombstone, which is marked the same way. (Rows that ``bench/generate.py`` loads with
    the triggers off keep version 0: after such a load, recompute by hand, as bench/engine.py does.)
    On PostgreSQL a version is the writing
    transaction's id, which is not in commit order: a transaction that began before the marks
    were taken may commit later with a version below the largest one seen. So the marks also
    keep the oldest transaction then running (``horizon``, at or below any such version) and the
    count and sum of the versions at or above it; every later write lands in that range and
    moves one of them. Pass a previous snapshot's ``horizon`` to compare with its marks.

    Target list members and channels have no version: members are marked by count, largest id,
    latest ``added_at`` and a tier checksum; channels (a handful of rows) by their rows.
    """
    if connection.vendor == "postgresql" and horizon is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            horizon = cursor.fetchone()[0]
    marks: dict = {"horizon": horizon}
    for name, model in VERSIONED.items():
        # Only what the (workspace, sync_version, id) indexes answer without reading the table:
        # a row count, a largest id or an aggregate with FILTER would scan every row of the
        # workspace (seconds at ten million touches). A deletion writes a tombstone, marked too.
        rows = model.objects.order_by()
        mark = _plain(rows.aggregate(max_version=Max("sync_version")))
        if horizon is not None:
            mark |= _plain(
                rows.filter(sync_version__gte=horizon).aggregate(
                    recent_rows=Count("id"), recent_sum=Sum("sync_version")
                )
            )
        marks[name] = mark
    marks["targets"] = _plain(
        TargetListMember.objects.aggregate(
            rows=Count("id"),
            max_id=Max("id"),
            added=Max("added_at"),
            tiers=Sum(F("tier") * F("id")),  # a tier change, or two tiers swapped, moves it
        )
    )
    marks["channels"] = [list(row) for row in Channel.objects.order_by("id").values_list("id", "slug", "name")]
    marks["parameters"] = _parameters(workspace)
    return marks


def _plain(values: dict) -> dict:
    """JSON-ready aggregates (PostgreSQL sums bigints as numeric)."""
    return {
        key: value.isoformat() if isinstance(value, dt.datetime) else int(value) if value is not None else None
        for key, value in values.items()
    }


def _parameters(workspace) -> dict:
    return {
        "timezone": workspace.timezone,
        "lookback_days": workspace.attribution_lookback_days,
        "half_life_days": workspace.time_decay_half_life_days,
    }


def latest_done(workspace, *, fields: tuple[str, ...] | None = None) -> Snapshot | None:
    """The newest done snapshot, without its arrays (tens of MB at scale: the reports read them
    once per process and snapshot, ``funnel.reports.prepared``), or with only ``fields``. A
    field left out still loads when it is read."""
    done = Snapshot.objects.filter(status=Snapshot.Status.DONE).order_by("-finished_at", "-id")
    return (done.only(*fields) if fields else done.defer("arrays")).first()


def workspace_needs_recompute(workspace, *, now: dt.datetime | None = None) -> bool:
    """Due when the workspace's interval has passed since its last snapshot and its data (or
    the engine's parameters) changed since."""
    now = now or timezone.now()
    last = latest_done(workspace)
    if last is None:
        return True
    if now - last.finished_at < dt.timedelta(minutes=workspace.recompute_interval_minutes):
        return False
    return last.source_marks != source_marks(workspace, horizon=last.source_marks.get("horizon"))


def _acquire(workspace) -> bool:
    """Take the workspace's run, or fold the request into the run under way. Each of the two
    conditional updates decides in one statement, and their conditions are each other's
    complement: a run released between them makes the second match nothing, and the request
    tries again to take the run, so it is never left pending with nobody to run it."""
    RecomputeState.objects.get_or_create(workspace=workspace)
    while True:
        now = timezone.now()
        free = Q(running_since__isnull=True) | Q(heartbeat_at__lt=now - STALE_AFTER)
        if RecomputeState.objects.filter(free).update(running_since=now, heartbeat_at=now, pending=False):
            return True
        if RecomputeState.objects.filter(~free).update(pending=True):
            return False


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
