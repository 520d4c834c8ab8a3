"""Load the demo company's shape at scale into PostgreSQL with COPY, and time it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel_bench \\
        .venv/bin/python bench/generate.py --leads 1000000 --seed 1 [--workspace bench]

See bench/README.md. It drops and recreates the secondary indexes of the touch, stage event and
lead tables, so run it on a database of its own, not one that serves users.
"""

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from funnel.demo.load import _workspace_models, workspace_data_delete, workspace_has_data  # noqa: E402
from funnel.demo.pgcopy import pg_load  # noqa: E402
from funnel.demo.shape import demo_shape  # noqa: E402
from workspaces.models import Role, Workspace  # noqa: E402
from workspaces.services import membership_add, workspace_create  # noqa: E402


def reset(workspace) -> str:
    """Empty the workspace. When no other workspace has rows in its tables, TRUNCATE them all
    at once (seconds for ten million rows); otherwise delete its rows table by table."""
    tables = [m._meta.db_table for m in _workspace_models()]
    with connection.cursor() as cursor:
        others = False
        for table in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE workspace_id <> %s)", [workspace.pk])
            others = others or cursor.fetchone()[0]
        if not others:
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
            return "truncated"
    workspace_data_delete(workspace=workspace)
    return "deleted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date())
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/generate.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    total = time.perf_counter()
    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.filter(slug=args.workspace).first()
    started = time.perf_counter()
    if workspace is None:
        workspace = workspace_create(slug=args.workspace, name="Bench Company")
        print(f"created workspace '{args.workspace}'")
    elif workspace_has_data(workspace):
        how = reset(workspace)
        print(f"reset workspace '{args.workspace}' ({how}) in {time.perf_counter() - started:.1f} s")
    users = {
        role_email: membership_add(workspace=workspace, email=role_email, role=role).user
        for role_email, role in (
            ("marketer@bench.test", Role.MARKETER),
            ("rep1@bench.test", Role.SALES_REP),
            ("rep2@bench.test", Role.SALES_REP),
        )
    }
    started = time.perf_counter()
    shape = demo_shape(leads=args.leads, seed=args.seed, today=args.today)
    generation = time.perf_counter() - started
    print(f"generated {args.leads:,} leads (seed {args.seed}, today {args.today}) in {generation:.1f} s")
    print(f"{'table':<22}{'rows':>12}{'seconds':>10}{'rows/s':>14}")

    def report(table: str, rows: int, seconds: float) -> None:
        print(f"{table:<22}{rows:>12,}{seconds:>10.1f}{rows / max(seconds, 1e-9):>14,.0f}", flush=True)

    timings = pg_load(
        workspace=workspace,
        shape=shape,
        reps=[users["rep1@bench.test"], users["rep2@bench.test"]],
        marketer=users["marketer@bench.test"],
        report=report,
    )
    rows = sum(shape.table_sizes().values())
    print(f"generation        {generation:6.1f} s")
    print(f"COPY              {timings['copy']:6.1f} s  ({rows:,} rows, {rows / timings['copy']:,.0f} rows/s)")
    print(f"indexes           {timings['indexes']:6.1f} s  ({timings['index_count']} rebuilt)")
    print(f"ANALYZE           {timings['analyze']:6.1f} s")
    print(f"total             {time.perf_counter() - total:6.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"peak memory       {peak:6.1f} GB")


if __name__ == "__main__":
    main()
