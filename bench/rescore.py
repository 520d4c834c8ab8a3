"""Benchmark of the whole-workspace rescore on PostgreSQL (the job after a rule change, and the
nightly task): ``leads.rescoring``'s bulk reads, NumPy scoring and batched write.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel_bench \\
        .venv/bin/python bench/rescore.py --workspace bench

Three runs on the workspace loaded by bench/generate.py, each inside a transaction that is
rolled back at the end, so the database is left as it was and the runs can be repeated:

1. the workspace's own rules (today's points; the generated scores are drawn at random, so
   most leads are written);
2. the same again after (1) was written in the same transaction: nothing changes, nothing is
   written (what a nightly run costs when no touch aged out);
3. every touch type given a 30-day half-life: every touch is decayed, most scores change.

Each prints its seconds (reading leads with their fit, reading touches, scoring, writing) and
how many leads changed and would qualify; at the end, the total and the peak memory (RSS) of
the process. The qualification itself (a stage move and handoff per qualifying lead, as a touch
does) is counted, not run: it is per lead by design and depends on the data's stages.
"""

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from leads import rescoring  # noqa: E402
from leads.rescoring import LeadSet, crossing, score_set, write_scores  # noqa: E402
from leads.scoring import TOUCH, Rule, rules_of  # noqa: E402
from workspaces.models import Workspace  # noqa: E402
from workspaces.scoping import workspace_scope  # noqa: E402


class _Rollback(Exception):
    pass


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(workspace, rules, label: str, now: dt.datetime) -> float:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    original = rescoring.read_columns

    def timed_read(sql, params, names, times=frozenset()):
        began = time.perf_counter()
        result = original(sql, params, names, times)
        timings["read touches" if "lead" in names else "read leads + fit"] = time.perf_counter() - began
        return result

    rescoring.read_columns = timed_read
    try:
        scored = score_set(workspace=workspace, rules=rules, leads=LeadSet(), now=now)
    finally:
        rescoring.read_columns = original
    scoring_seconds = time.perf_counter() - started - sum(timings.values())
    began = time.perf_counter()
    written = write_scores(workspace=workspace, scored=scored, now=now)
    write_seconds = time.perf_counter() - began
    qualifying = len(crossing(scored, threshold=workspace.mql_threshold, previous_threshold=workspace.mql_threshold))
    total = time.perf_counter() - started
    print(f"== {label}")
    for name, seconds in timings.items():
        print(f"   {name:<22}{seconds:8.2f} s")
    print(f"   {'score (NumPy)':<22}{scoring_seconds:8.2f} s")
    print(f"   {'write changed':<22}{write_seconds:8.2f} s   ({written:,} leads written)")
    print(f"   {'whole rescore':<22}{total:8.2f} s   ({len(scored.ids):,} leads, {qualifying:,} would qualify)")
    print(f"   {'peak memory so far':<22}{peak_mb():8.0f} MB")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--today", help="score as of this day (YYYY-MM-DD, noon UTC); default now")
    args = parser.parse_args()
    workspace = Workspace.objects.get(slug=args.workspace)
    now = (
        dt.datetime.fromisoformat(args.today).replace(hour=12, tzinfo=dt.UTC) if args.today else dt.datetime.now(dt.UTC)
    )
    with workspace_scope(workspace):
        from attribution.models import Touch
        from leads.models import Lead

        print(
            f"workspace {workspace.slug}: {Lead.objects.count():,} leads, {Touch.objects.count():,} touches, "
            f"engagement window {workspace.engagement_window_days} days, scored as of {now:%Y-%m-%d %H:%M} UTC"
        )
        rules = rules_of(workspace)
        decaying = [Rule(r.kind, r.value, r.points, 30) if r.kind == TOUCH else r for r in rules]
        started = time.perf_counter()
        try:
            with transaction.atomic():
                run(workspace, rules, "1. the workspace's rules (today's points)", now)
                run(workspace, rules, "2. the same again: nothing changed", now)
                run(workspace, decaying, "3. every touch type with a 30-day half-life", now)
                raise _Rollback
        except _Rollback:
            pass
    print(f"all three runs      {time.perf_counter() - started:8.2f} s (rolled back: the database is unchanged)")
    print(f"peak memory         {peak_mb():8.0f} MB")


if __name__ == "__main__":
    main()
