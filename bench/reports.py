"""Benchmark of the reports: every question a dashboard, the API or `manage.py report` asks,
answered from a workspace's latest snapshot.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel \\
        .venv/bin/python bench/reports.py --workspace bench --workspace bench-100k [--rounds 5]

Each workspace (loaded by bench/generate.py, with a snapshot written by bench/engine.py) is
measured in a fresh process. The first question there is cold: it reads the snapshot's arrays,
decodes them and prepares them (funnel.reports.prepared), and the time of each part is printed.
Then every question type is asked ``--rounds`` times, round after round (the first round is each
question's first time): the funnel in both views and with a horizon, without and with each
breakdown; attribution for every model, level and breakdown; the campaign table for every model;
and the exits and headline on their own (a funnel answer includes them). Each is asked for all
time, the twelve months, the quarter and the month before the snapshot. It prints the p50 and
max milliseconds of each, the memory the cached snapshot takes, and whether every warm answer
came in under the target.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200.0
MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "w_shaped", "markov")
LEVELS = ("lead", "opportunity", "revenue")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _ranges(as_of: dt.date) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    month_start = as_of.replace(day=1)
    last_month_end = month_start - dt.timedelta(days=1)
    quarter_start = dt.date(month_start.year, 3 * ((month_start.month - 1) // 3) + 1, 1)
    last_quarter_end = quarter_start - dt.timedelta(days=1)
    last_quarter_start = dt.date(last_quarter_end.year, last_quarter_end.month - 2, 1)
    return {
        "all time": (None, None),
        "12 months": (as_of - dt.timedelta(days=364), as_of),
        "quarter": (last_quarter_start, last_quarter_end),
        "month": (last_month_end.replace(day=1), last_month_end),
    }


def run_one(slug: str, rounds: int) -> dict:
    """Measure one workspace in this process (called in a child)."""
    import resource

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection

    from funnel import reports
    from funnel.snapshots import latest_done
    from workspaces.models import Workspace
    from workspaces.scoping import workspace_scope

    workspace = Workspace.objects.get(slug=slug)
    connection.ensure_connection()
    with workspace_scope(workspace):
        snapshot = latest_done(workspace)
        if snapshot is None:
            raise SystemExit(f"workspace {slug} has no snapshot: run bench/engine.py first")
        rss_before = _rss_mb()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        reports.funnel_report(workspace)
        cold_ms = (time.perf_counter() - started) * 1000
        load = dict(reports.last_load)
        prep = reports.prepared(snapshot, workspace.timezone)
        memory = {
            "prepared_mb": prep.nbytes() / 2**20,
            "rss_growth_mb": _rss_mb() - rss_before,
            "peak_growth_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - max(peak_before, rss_before),
        }
        as_of = dt.date.fromisoformat(snapshot.parameters["as_of"][:10])
        ranges = _ranges(as_of)

        questions = []  # (section, label, range name, call)
        for view, horizon in (("cohort", None), ("period", None), ("cohort", 30.0)):
            name = f"{view}, horizon 30 days" if horizon else view
            for by in (None, *reports.BREAKDOWNS):
                label = f"{name}{f' by {by}' if by else ''}"
                for range_name, (first, last) in ranges.items():
                    filters = reports.Filters(first, last)
                    questions.append(
                        (
                            "funnel",
                            label,
                            range_name,
                            lambda v=view, h=horizon, b=by, f=filters: reports.funnel_report(
                                workspace, view=v, horizon_days=h, by=b, filters=f
                            ),
                        )
                    )
        for range_name, (first, last) in ranges.items():
            filters = reports.Filters(first, last)

            def exits(f=filters):
                reports.prepared(latest_done(workspace), workspace.timezone).exits(f.period(workspace.timezone))

            def headline(f=filters):
                snap = latest_done(workspace)
                prep = reports.prepared(snap, workspace.timezone)
                table = prep.funnel(None, f.period(workspace.timezone), "cohort", None)
                reports._headline(prep, table["overall"], f, snap)

            questions.append(("funnel parts", "exits", range_name, exits))
            questions.append(("funnel parts", "headline (with its funnel counts)", range_name, headline))
        for model in MODELS:
            for level in LEVELS:
                for by in ("channel",) if model == "markov" else ("channel", "campaign"):
                    for range_name, (first, last) in ranges.items():
                        filters = reports.Filters(first, last)
                        questions.append(
                            (
                                "attribution",
                                f"{model} {level} by {by}",
                                range_name,
                                lambda m=model, lv=level, b=by, f=filters: reports.attribution_report(
                                    workspace, model=m, level=lv, by=b, filters=f
                                ),
                            )
                        )
        for model in MODELS[:6]:
            for range_name, (first, last) in ranges.items():
                filters = reports.Filters(first, last)
                questions.append(
                    (
                        "campaign table",
                        model,
                        range_name,
                        lambda m=model, f=filters: reports.campaign_report(workspace, model=m, filters=f),
                    )
                )

        times: dict[tuple, list[float]] = {}
        for _ in range(rounds):
            for section, label, range_name, call in questions:
                started = time.perf_counter()
                call()
                times.setdefault((section, label, range_name), []).append((time.perf_counter() - started) * 1000)
        vendor = connection.vendor
        version = getattr(connection, "pg_version", None)
    database = f"PostgreSQL {version // 10000}.{version % 10000}" if vendor == "postgresql" and version else vendor
    return {
        "workspace": slug,
        "leads": prep.n_leads,
        "snapshot": snapshot.pk,
        "database": database,
        "cold_ms": cold_ms,
        "load": load,
        "memory": memory,
        "ranges": {name: [d.isoformat() if d else None for d in bounds] for name, bounds in ranges.items()},
        "times": [[*key, values] for key, values in times.items()],
    }


def report(result: dict, rounds: int) -> bool:
    load = result["load"]
    memory = result["memory"]
    answer_ms = result["cold_ms"] - 1000 * (load["fetch_seconds"] + load["decode_seconds"] + load["prepare_seconds"])
    print(
        f"== {result['workspace']}: {result['leads']:,} leads, snapshot {result['snapshot']} "
        f"({load['payload_bytes'] / 1e6:.1f} MB stored), {result['database']}"
    )
    print(
        f"   cold, the first question in a new process (funnel, cohort, all time): {result['cold_ms']:.0f} ms = "
        f"read {1000 * load['fetch_seconds']:.0f} + decode {1000 * load['decode_seconds']:.0f} + "
        f"prepare {1000 * load['prepare_seconds']:.0f} + answer {answer_ms:.0f}"
    )
    print(
        f"   cached snapshot: {memory['prepared_mb']:.0f} MB of prepared arrays; process RSS "
        f"+{memory['rss_growth_mb']:.0f} MB after loading (peak +{memory['peak_growth_mb']:.0f} MB while loading)"
    )
    ranges = list(result["ranges"])
    print("   ranges: " + "; ".join(f"{name} {a or '-'}..{b or '-'}" for name, (a, b) in result["ranges"].items()))
    by_row: dict[tuple, dict] = {}
    for section, label, range_name, values in result["times"]:
        by_row.setdefault((section, label), {})[range_name] = values
    slowest = (0.0, "")
    section_now = None
    for (section, label), cells in by_row.items():
        if section != section_now:
            section_now = section
            head = f"   {section}, warm ms p50/max over {rounds} rounds"
            print(f"{head:<58}" + "".join(f"{name:>14}" for name in ranges))
        line = f"     {label:<53}"
        for name in ranges:
            values = cells[name]
            p50, top = statistics.median(values), max(values)
            line += f"{f'{p50:.1f}/{top:.1f}':>14}"
            if top > slowest[0]:
                slowest = (top, f"{section} {label}, {name}")
        print(line)
    every = [v for *_, values in result["times"] for v in values]
    under = slowest[0] < TARGET_MS
    print(
        f"   {len(every):,} warm answers: p50 {statistics.median(every):.1f} ms, max {slowest[0]:.1f} ms "
        f"({slowest[1]}); every warm answer under {TARGET_MS:.0f} ms: {'yes' if under else 'NO'}"
    )
    return under


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", action="append", required=True, help="slug; repeat for several sizes")
    parser.add_argument("--rounds", type=int, default=5, help="times each question is asked (default 5)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.rounds)))
        return
    print(f"== bench/reports.py, {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    all_under = True
    for slug in args.workspace:
        out = subprocess.run(
            [sys.executable, __file__, "--workspace", slug, "--rounds", str(args.rounds), "--child", slug],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if out.returncode != 0:
            sys.exit(f"measuring {slug} failed:\n{out.stderr[-3000:]}")
        all_under &= report(json.loads(out.stdout.strip().splitlines()[-1]), args.rounds)
    print(
        f"== load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"every warm answer of every workspace under {TARGET_MS:.0f} ms: {'yes' if all_under else 'NO'}"
    )
    if not all_under:
        sys.exit(1)


if __name__ == "__main__":
    main()
