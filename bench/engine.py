"""Benchmark of the engine: the whole recompute of a workspace on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel \\
        .venv/bin/python bench/engine.py --workspace bench-1m --workspace bench-100k

Each workspace (loaded beforehand by bench/generate.py) is recomputed in a fresh worker
process, so the peak memory printed is that run's own. It prints the seconds of every step
(reads, compute, save), rows per second, the peak memory, and, for two sizes, how the cost
grew against the touches.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_one(slug: str) -> dict:
    """Recompute one workspace in this process and describe the run (called in a child)."""
    import resource
    import time

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from funnel.snapshots import recompute_workspace
    from workspaces.models import Workspace
    from workspaces.scoping import workspace_scope

    workspace = Workspace.objects.get(slug=slug)
    started = time.perf_counter()
    stages: list[list] = []

    def progress(stage: str, percent: int) -> None:
        # the peak so far, at the start of each stage: the stage before it reached at most this
        stages.append([stage, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024])

    with workspace_scope(workspace):
        snapshot = recompute_workspace(workspace=workspace, progress=progress)
    wall = time.perf_counter() - started
    return {
        "workspace": slug,
        "wall_seconds": wall,
        "snapshot_seconds": snapshot.duration_seconds,
        "timings": snapshot.timings,
        "rows": snapshot.row_counts,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "snapshot_mb": len(bytes(snapshot.arrays)) / 1e6,
        "stages": stages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", action="append", required=True, help="slug; repeat for several sizes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child)))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to the PostgreSQL database that bench/generate.py loaded.")
    results = []
    for slug in args.workspace:
        out = subprocess.run(
            [sys.executable, __file__, "--workspace", slug, "--child", slug],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if out.returncode != 0:
            sys.exit(f"recompute of {slug} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        rows = result["rows"]
        print(
            f"== {slug}: {rows['leads']:,} leads, {rows['touches']:,} touches, {rows['events']:,} stage events, "
            f"{rows['opportunities']:,} opportunities, {rows['contracts']:,} contracts"
        )
        for step, seconds in result["timings"].items():
            print(f"   {step:<24} {seconds:7.2f} s")
        total = result["snapshot_seconds"]
        print(
            f"   {'whole recompute':<24} {total:7.2f} s   ({rows['touches'] / total:,.0f} touches/s, "
            f"{rows['leads'] / total:,.0f} leads/s)"
        )
        print(f"   peak worker memory       {result['peak_rss_mb']:7.0f} MB   snapshot {result['snapshot_mb']:.0f} MB")
        print("   progress (seconds since start, peak MB so far):")
        for stage, at, peak in result["stages"]:
            print(f"     {at:6.2f} s  {peak:6.0f} MB  {stage}")
    if len(results) >= 2:
        small, large = sorted(results, key=lambda r: r["rows"]["touches"])[:: len(results) - 1]
        touch_ratio = large["rows"]["touches"] / small["rows"]["touches"]
        time_ratio = large["snapshot_seconds"] / small["snapshot_seconds"]
        print(
            f"== growth: touches x{touch_ratio:.1f}, time x{time_ratio:.1f} "
            f"({'no faster than linear' if time_ratio <= touch_ratio * 1.1 else 'FASTER THAN LINEAR'})"
        )


if __name__ == "__main__":
    main()
