"""Time the lead list page of a large workspace (issue 11: under 300 ms a page at a million
leads): the first page in each sort, a deep page reached by its cursor (forward and back), the
filters one by one and together, the search, and the CSV export's first rows, each asked
``--rounds`` times through the Django test client (the whole page: middleware, the form's
choices, the keyset read, the capped count and the template). Prints p50/p95 ms per case and
exits 1 if a p95 misses the target.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel_bench \\
        .venv/bin/python bench/lead_list.py [--workspace bench] [--rounds 20]

Run it after ``bench/generate.py`` (see bench/README.md). DEBUG is turned off for the run, so
no query is logged.
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from attribution.models import Campaign, Channel
    from leads.models import Lead
    from leads.views import LEAD_SORTS
    from workspaces.listing import encode_cursor
    from workspaces.models import Membership, Role, Workspace
    from workspaces.scoping import workspace_scope

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    workspace = Workspace.objects.get(slug=args.workspace)
    with workspace_scope(workspace):
        member = Membership.objects.filter(workspace=workspace, role=Role.MARKETER).select_related("user").first()
        if member is None:
            raise SystemExit(f"workspace {args.workspace} has no marketer: load it with bench/generate.py")
        leads = Lead.objects.filter(workspace=workspace)
        total = leads.count()
        rep = Membership.objects.filter(workspace=workspace, role=Role.SALES_REP).values_list("user_id", flat=True)[0]
        campaign = (
            leads.exclude(first_touch_campaign=None)
            .values_list("first_touch_campaign", flat=True)
            .order_by("first_touch_campaign")
            .distinct()[:200]
        )
        campaign_id = list(campaign)[len(campaign) // 2]
        campaign_name = Campaign.objects.get(pk=campaign_id).name
        channel = Channel.objects.get(slug="events").pk
        domain = leads.exclude(account=None).values_list("account__domain", flat=True).order_by("id")[total // 2]
        sorts = {sort.key: sort for sort in LEAD_SORTS}

        def cursor_at(sort_key: str, position: int) -> str:
            ordering = sorts[sort_key].ordering()
            names = [name.lstrip("-") for name in ordering]
            row = leads.filter(erased_at=None, merged_into=None).order_by(*ordering).values_list(*names)[position]
            return encode_cursor(tuple(row))

        deep = total // 2
        cases = [
            ("first page, newest first", {}),
            ("first page, by score", {"sort": "score"}),
            ("first page, by name", {"sort": "name"}),
            (f"deep page (row {deep:,}), newest first", {"after": cursor_at("created", deep)}),
            (f"deep page (row {deep:,}), by score", {"sort": "score", "after": cursor_at("score", deep)}),
            (f"deep page (row {deep:,}), by name", {"sort": "name", "after": cursor_at("name", deep)}),
            (f"previous page from row {deep:,}, by score", {"sort": "score", "before": cursor_at("score", deep)}),
            ("stage = mql", {"stage": "mql"}),
            ("stage = won, by score", {"stage": "won", "sort": "score"}),
            ("owner = a rep", {"owner": rep}),
            ("no owner, by name", {"owner": "none", "sort": "name"}),
            ("segment = enterprise", {"segment": "enterprise"}),
            ("score 60 to 100, by score", {"score_min": 60, "score_max": 100, "sort": "score"}),
            (f"first-touch campaign ({campaign_name})", {"first_touch_campaign": campaign_id}),
            ("first-touch channel = events", {"first_touch_channel": channel}),
            (f"account = {domain}", {"account": domain}),
            ("created in the last 30 days", {"created_from": _days_ago(30)}),
            (
                "stage lead + enterprise + score >= 40 + events, by score",
                {
                    "stage": "lead",
                    "segment": "enterprise",
                    "score_min": 40,
                    "first_touch_channel": channel,
                    "sort": "score",
                },
            ),
            ("search 'jo' (many match)", {"q": "jo"}),
            ("search 'zhang wei' (first and last name)", {"q": "zhang wei"}),
            ("search an email prefix", {"q": leads.values_list("email", flat=True).order_by("id")[total // 3][:9]}),
            ("search 'qxz' (nothing matches)", {"q": "qxz"}),
        ]
    client = Client()
    client.force_login(member.user, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("leads", kwargs={"workspace_slug": workspace.slug})
    server = connection.cursor().connection.info.server_version
    load = os.getloadavg()
    version = f"{server // 10000}.{server % 10000}"
    print(
        f"== bench/lead_list.py: workspace '{workspace.slug}', {total:,} leads, PostgreSQL {version}, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"   the whole page through the Django test client, {args.rounds} rounds per case (after one warm-up)")
    print(f"   {'case':<62}{'rows':>6}{'count':>9}{'p50 ms':>9}{'p95 ms':>9}  target {TARGET_MS} ms")
    missed = 0
    for label, params in cases:
        timings, response = [], None
        for round_ in range(args.rounds + 1):
            started = time.perf_counter()
            response = client.get(url, params, secure=True)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{label}: HTTP {response.status_code}")
            if round_:
                timings.append(elapsed)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
        ok = p95 < TARGET_MS
        missed += not ok
        body = response.content.decode()
        rows = len(set(re.findall(r'href="[^"]*/leads/(\d+)/"', body)))
        count = re.search(r'list-count">([^<]*)<', body).group(1).split(" ")[0]
        print(f"   {label:<62}{rows:>6}{count:>9}{p50:>9.1f}{p95:>9.1f}  {'met' if ok else 'MISSED'}")
    print(f"== {len(cases) - missed} of {len(cases)} cases under {TARGET_MS} ms at p95")
    return 1 if missed else 0


def _days_ago(days: int) -> str:
    import datetime as dt

    from django.utils import timezone

    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


if __name__ == "__main__":
    sys.exit(main())
