"""A real client syncing over HTTP against gunicorn on PostgreSQL, killed and retried.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel_bench \\
        .venv/bin/python bench/sync.py [--seed N] [--leads 50000] [--touches 500000]

The client (this file with ``--client``, in a subprocess, speaking only HTTP) syncs accounts (one
per eight leads), leads linked to them by ``account_external_id``, and touches (each with its
``external_id``, in the order they happened), in batches of 1,000 through the bulk endpoints.
Every batch carries an ``Idempotency-Key`` derived from the sync run's id and the batch's
contents, and is retried on every network error, 5xx and 429.

The harness (this file without ``--client``) empties the workspace ``bench-sync``, starts its
own gunicorn, and then:

1. runs the client and kills it with SIGKILL at a random batch (seeded, printed);
2. runs the same sync run again from the start (every batch is sent again); during it, it
   kills one gunicorn worker with SIGKILL while that worker holds a request;
3. checks in the database: exactly the leads, accounts and touches sent, no duplicate email,
   external_id or touch external_id, every value as sent, no ledger row written twice;
4. runs a second, new sync run of the same data and checks that every record comes back
   ``unchanged`` and that nothing was written.

It prints each phase with counts and timings and exits non-zero when a check fails.
See bench/README.md.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    PROXY_HEADERS,
    Server,
    analyze,
    api_key,
    django_setup,
    machine_load,
    manage,
    percentile,
    postgres_facts,
    prepare_database,
    redis_reachable,
    workspace_reset,
)

CHANNELS = (
    "paid_search",
    "paid_social",
    "organic_search",
    "email",
    "events",
    "webinar",
    "content",
    "partner",
    "referral",
    "outbound",
    "direct",
)
TOUCH_TYPES = (
    "ad_click",
    "form_fill",
    "email_click",
    "event_attended",
    "webinar_attended",
    "content_download",
    "web_visit",
    "meeting",
    "call",
    "other",
)
SENIORITIES = ("executive", "director", "manager", "individual")
PHASES = ("accounts", "leads", "touches")
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 12


# --- the data: the same for every run of one harness (seeded, relative to one "today") ---------


def dataset(*, leads: int, touches: int, accounts: int, seed: int, today: dt.datetime) -> dict[str, list[dict]]:
    """Accounts, leads (lead n belongs to account n * accounts // leads) and touches (touch
    ``touch-<lead>-<k>`` belongs to lead ``lead-<lead>``), as interchange records; the touches
    sorted by when they happened, as an event stream arrives."""
    rng = random.Random(seed)
    account_records = [
        {
            "external_id": f"acct-{a:06d}",
            "name": f"Sync Company {a:06d}",
            "domain": f"sync{a:06d}.example",
            "industry": rng.choice(("Software", "Retail", "Finance", "Health", "Manufacturing")),
            "employees": rng.randint(5, 20000),
            "country": rng.choice(("US", "DE", "FR", "GB", "JP", "BR")),
            "segment": rng.choice(("smb", "mid_market", "enterprise")),
        }
        for a in range(accounts)
    ]
    lead_records = []
    for n in range(leads):
        account = n * accounts // leads
        record = {
            "external_id": f"lead-{n:06d}",
            "email": f"person.{n}@sync{account:06d}.example",
            "first_name": rng.choice(("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hiro")),
            "last_name": rng.choice(("Adams", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia")),
            "title": rng.choice(("VP Marketing", "Director of Sales", "Engineer", "CFO", "Head of Growth")),
            "seniority": rng.choice(SENIORITIES),
            "department": rng.choice(("Marketing", "Sales", "Engineering", "Finance")),
            "phone": f"+1 555 {rng.randint(0, 9999):04d}",
            "account_external_id": f"acct-{account:06d}",
        }
        if rng.random() < 0.85:  # captured; the others were reached but never captured (stage touched)
            record["created_at"] = (today - dt.timedelta(seconds=rng.randint(86400, 400 * 86400))).isoformat()
        lead_records.append(record)
    touch_records = []
    per_lead, extra = divmod(touches, leads)
    for n in range(leads):
        for k in range(per_lead + (1 if n < extra else 0)):
            touch_records.append(
                {
                    "external_id": f"touch-{n:06d}-{k:03d}",
                    "lead_external_id": f"lead-{n:06d}",
                    "channel": rng.choice(CHANNELS),
                    "type": rng.choice(TOUCH_TYPES),
                    "occurred_at": (today - dt.timedelta(seconds=rng.randint(60, 400 * 86400))).isoformat(),
                }
            )
    touch_records.sort(key=lambda r: (r["occurred_at"], r["external_id"]))
    return {"accounts": account_records, "leads": lead_records, "touches": touch_records}


def batches_of(records: list[dict], size: int) -> list[list[dict]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


# --- the client (a subprocess: HTTP only) ------------------------------------------------------


_EMIT = threading.Lock()


def emit(event: dict) -> None:
    line = json.dumps(event)
    with _EMIT:  # one whole line at a time from the client threads
        print(line, flush=True)


def run_client(args) -> int:
    """One sync run: every phase in order, its batches from ``--clients`` threads; one JSON
    line per event on stdout. Exit 0 when every batch was answered 200, 3 when one was
    refused for good."""
    import requests

    key = os.environ["BENCH_SYNC_API_KEY"]
    data = dataset(
        leads=args.leads,
        touches=args.touches,
        accounts=args.accounts,
        seed=args.data_seed,
        today=dt.datetime.fromisoformat(args.today),
    )
    local = threading.local()

    def session():
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(
                {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **PROXY_HEADERS}
            )
        return local.session

    number = 0
    failed = False
    stop = threading.Event()  # a batch refused for good: send no more
    for phase in PHASES:
        batches = batches_of(data[phase], args.batch)
        emit({"event": "phase", "phase": phase, "batches": len(batches), "records": len(data[phase])})
        started = time.perf_counter()

        def send(index: int, first_global: int = number, phase: str = phase, batches=batches) -> bool:
            body = json.dumps({"records": batches[index]}, separators=(",", ":"), sort_keys=True).encode()
            idempotency_key = f"{args.run_id}:{phase}:{hashlib.sha256(body).hexdigest()}"
            where = {"phase": phase, "batch": index, "global": first_global + index}
            for attempt in range(MAX_ATTEMPTS):
                if stop.is_set():
                    return False
                emit({"event": "send", "attempt": attempt, **where})
                begun = time.perf_counter()
                try:
                    response = session().post(
                        f"{args.base}/api/v1/{phase}/bulk/",
                        data=body,
                        headers={"Idempotency-Key": idempotency_key},
                        timeout=(5, 600),
                    )
                except requests.RequestException as error:
                    emit({"event": "retry", "attempt": attempt, "reason": f"{type(error).__name__}", **where})
                    local.__dict__.pop("session", None)  # a fresh connection
                    time.sleep(min(5.0, 0.2 * 2**attempt))
                    continue
                if response.status_code in RETRYABLE_STATUS:
                    wait = float(response.headers.get("Retry-After") or min(5.0, 0.2 * 2**attempt))
                    emit({"event": "retry", "attempt": attempt, "reason": f"HTTP {response.status_code}", **where})
                    time.sleep(wait)
                    continue
                if response.status_code != 200:
                    stop.set()
                    emit({"event": "refused", "status": response.status_code, "text": response.text[:500], **where})
                    return False
                answer = response.json()
                errors = [r for r in answer["results"] if r["status"] == "error"][:3]
                emit(
                    {
                        "event": "done",
                        "seconds": time.perf_counter() - begun,
                        "counts": answer["counts"],
                        "replayed": response.headers.get("Idempotent-Replayed") == "true",
                        "errors": errors,
                        **where,
                    }
                )
                return True
            if not stop.is_set():
                stop.set()
                emit({"event": "refused", "status": "gave up", "text": f"after {MAX_ATTEMPTS} attempts", **where})
            return False

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            failed = not all(pool.map(send, range(len(batches))))
        emit({"event": "phase_done", "phase": phase, "seconds": time.perf_counter() - started})
        number += len(batches)
        if failed:
            return 3  # the later phases refer to this one's records: stop, as a real client would
    return 0


# --- the harness ------------------------------------------------------------------------------


class Run:
    """One run of the client as a subprocess, read event by event; ``on_send`` may arrange a
    kill (of the client or of a server worker)."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: str):
        self.name, self.command, self.env = name, command, env
        self.stderr_path = f"{log_dir}/bench-sync-client-{name.replace(' ', '-')}.log"
        self.phases: dict[str, dict] = {}
        self.retries: list[dict] = []
        self.refused: list[dict] = []
        self.record_errors: list[dict] = []
        self.seconds = 0.0
        self.returncode: int | None = None
        self.process: subprocess.Popen | None = None

    def execute(self, on_send=None) -> None:
        started = time.perf_counter()
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=stderr, env=self.env, text=True, bufsize=1
            )
            try:
                for line in self.process.stdout:
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        print(f"   {self.name}: {line.rstrip()}", flush=True)
                        continue
                    self._take(event)
                    if event["event"] == "send" and on_send is not None:
                        on_send(event, self)
            finally:
                if self.process.poll() is None and sys.exc_info()[0] is not None:
                    self.process.kill()  # the harness failed: leave no client behind
            self.returncode = self.process.wait()
        self.seconds = time.perf_counter() - started

    def _take(self, event: dict) -> None:
        kind = event["event"]
        if kind == "phase":
            self.phases[event["phase"]] = {
                "batches": event["batches"],
                "records": event["records"],
                "done": 0,
                "replayed": 0,
                "latency": {True: [], False: []},  # seconds of the replayed and of the written batches
                "counts": dict.fromkeys(("created", "updated", "unchanged", "error"), 0),
                "seconds": None,
                "started": time.perf_counter(),
            }
        elif kind == "done":
            phase = self.phases[event["phase"]]
            phase["done"] += 1
            phase["replayed"] += event["replayed"]
            phase["latency"][event["replayed"]].append(event["seconds"])
            for status, n in event["counts"].items():
                phase["counts"][status] += n
            if event["errors"]:
                self.record_errors.append(event)
        elif kind == "phase_done":
            self.phases[event["phase"]]["seconds"] = event["seconds"]
        elif kind == "retry":
            self.retries.append(event)
            if event["attempt"] >= 2:  # the first two of each batch are shown; the rest are counted
                return
            print(
                f"   {self.name}: {event['phase']} batch {event['batch']} attempt {event['attempt'] + 1}: "
                f"{event['reason']}; retrying",
                flush=True,
            )
        elif kind == "refused":
            self.refused.append(event)
            print(
                f"   {self.name}: {event['phase']} batch {event['batch']} REFUSED ({event['status']}): "
                f"{' '.join(str(event['text']).split())[:300]}",
                flush=True,
            )

    def report(self) -> None:
        for name, phase in self.phases.items():
            seconds = phase["seconds"] if phase["seconds"] is not None else time.perf_counter() - phase["started"]
            counts = phase["counts"]
            finished = "" if phase["seconds"] is not None else " (cut short)"
            answered = sum(counts.values())
            print(
                f"   {name:<9} {phase['done']:>4}/{phase['batches']:<4} batches answered "
                f"({phase['replayed']:>3} replayed) in {seconds:6.1f} s{finished}: "
                f"created {counts['created']:>7,}  updated {counts['updated']:>6,}  unchanged {counts['unchanged']:>7,}"
                f"  error {counts['error']:>4,}   {answered / max(seconds, 1e-9):>8,.0f} records/s"
            )
        latencies = []
        for name, phase in self.phases.items():
            for replayed, seconds in phase["latency"].items():
                if seconds:
                    latencies.append(
                        f"{name} {'replayed' if replayed else 'written'} p50 {percentile(seconds, 50) * 1000:.0f} / "
                        f"p95 {percentile(seconds, 95) * 1000:.0f}"
                    )
        print(f"   request ms: {'; '.join(latencies)}")
        print(f"   {len(self.retries)} retries; client exit code {self.returncode}; {self.seconds:.1f} s")


def workspace_counts(workspace_id: int) -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for label, table in (
            ("accounts", "accounts_account"),
            ("leads", "leads_lead"),
            ("touches", "attribution_touch"),
            ("stage events", "funnel_stageevent"),
            ("idempotency records", "sync_idempotencyrecord"),
        ):
            cursor.execute(f"SELECT count(*) FROM {table} WHERE workspace_id = %s", [workspace_id])
            counts[label] = cursor.fetchone()[0]
    return counts


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {label}" for label, n in counts.items())


def check_database(workspace_id: int, data: dict[str, list[dict]]) -> list[str]:
    """Exactly what was sent, once each, with the values sent; the ledger without doubles."""
    from django.db import connection

    failures = []
    with connection.cursor() as cursor:

        def scalar(sql: str) -> int:
            cursor.execute(sql, [workspace_id])
            return cursor.fetchone()[0]

        counts = workspace_counts(workspace_id)
        for label in PHASES:
            if counts[label] != len(data[label]):
                failures.append(f"{counts[label]:,} {label} in the workspace, {len(data[label]):,} sent")
        for label, table, column in (
            ("lead email", "leads_lead", "email"),
            ("lead external_id", "leads_lead", "external_id"),
            ("touch external_id", "attribution_touch", "external_id"),
            ("account external_id", "accounts_account", "external_id"),
            ("account domain", "accounts_account", "domain"),
        ):
            repeated = scalar(
                f"SELECT count(*) FROM (SELECT {column} FROM {table} WHERE workspace_id = %s "
                f"GROUP BY {column} HAVING count(*) > 1) AS d"
            )
            empty = scalar(f"SELECT count(*) FROM {table} WHERE workspace_id = %s AND {column} = ''")
            print(f"   duplicate {label}s: {repeated}; empty: {empty}")
            if repeated or empty:
                failures.append(f"{repeated} {label}s appear more than once, {empty} are empty")
        doubled = scalar(
            "SELECT count(*) FROM (SELECT lead_id, stage, entered_at FROM funnel_stageevent WHERE workspace_id = %s "
            "GROUP BY lead_id, stage, entered_at HAVING count(*) > 1) AS d"
        )
        print(f"   ledger rows written twice (same lead, stage and time): {doubled}")
        if doubled:
            failures.append(f"{doubled} ledger rows were written twice")

        cursor.execute(
            "SELECT external_id, name, domain, industry, employee_count, country, segment FROM accounts_account "
            "WHERE workspace_id = %s",
            [workspace_id],
        )
        stored = {row[0]: row[1:] for row in cursor.fetchall()}
        wrong = [
            a["external_id"]
            for a in data["accounts"]
            if stored.get(a["external_id"])
            != (a["name"], a["domain"], a["industry"], a["employees"], a["country"], a["segment"])
        ]
        cursor.execute(
            "SELECT l.external_id, l.email, l.first_name, l.last_name, l.title, l.seniority, l.department, l.phone, "
            "a.external_id, l.captured_at FROM leads_lead l LEFT JOIN accounts_account a ON a.id = l.account_id "
            "WHERE l.workspace_id = %s",
            [workspace_id],
        )
        stored = {row[0]: row[1:] for row in cursor.fetchall()}
        fields = ("email", "first_name", "last_name", "title", "seniority", "department", "phone")
        # A person sent without created_at is captured by their first form fill (the product's
        # rule): that is the capture time expected of them.
        first_fill: dict[str, dt.datetime] = {}
        for t in data["touches"]:
            if t["type"] == "form_fill":
                at = dt.datetime.fromisoformat(t["occurred_at"])
                first_fill[t["lead_external_id"]] = min(at, first_fill.get(t["lead_external_id"], at))
        wrong += [
            r["external_id"]
            for r in data["leads"]
            if stored.get(r["external_id"])
            != (
                *(r[f] for f in fields),
                r["account_external_id"],
                dt.datetime.fromisoformat(r["created_at"]) if "created_at" in r else first_fill.get(r["external_id"]),
            )
        ]
        cursor.execute(
            "SELECT t.external_id, l.external_id, c.slug, t.type, t.occurred_at FROM attribution_touch t "
            "JOIN leads_lead l ON l.id = t.lead_id JOIN attribution_channel c ON c.id = t.channel_id "
            "WHERE t.workspace_id = %s",
            [workspace_id],
        )
        stored = {row[0]: row[1:] for row in cursor.fetchall()}
        wrong += [
            t["external_id"]
            for t in data["touches"]
            if stored.get(t["external_id"])
            != (t["lead_external_id"], t["channel"], t["type"], dt.datetime.fromisoformat(t["occurred_at"]))
        ]
        print(f"   records missing or not as sent (every field compared): {len(wrong)}")
        if wrong:
            failures.append(f"{len(wrong)} records missing or not as sent, e.g. {wrong[:5]}")
    return failures


class Analyzer(threading.Thread):
    """ANALYZE the tables every ``every`` seconds while the runs go on: what autovacuum does for a
    table given an absolute analyze threshold. Without it (autovacuum is off on this machine, and
    with the default scale factor a tenant growing inside a big shared table never triggers it)
    the planner keeps believing the workspace is as empty as it was at the start."""

    TABLES = ("leads_lead", "attribution_touch", "funnel_stageevent", "accounts_account")

    def __init__(self, every: float):
        super().__init__(daemon=True)
        self.every, self.count, self.seconds = every, 0, 0.0
        self.finished = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.finished.wait(self.every):
                self.seconds += analyze(*self.TABLES)
                self.count += 1
        finally:
            connection.close()

    def stop(self) -> str:
        self.finished.set()
        self.join()
        return f"ANALYZE ran {self.count} times during the runs ({self.seconds:.1f} s)"


def autovacuum() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def backends(database: str) -> str:
    """What the server's PostgreSQL connections are doing at this instant."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT state, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                [database],
            )
            rows = cursor.fetchall()
    finally:
        connection.close()  # this runs in a timer thread: its own connection
    return "; ".join(f"{state}: {query}" if state != "idle" else "idle" for state, query in rows) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--workspace", default="bench-sync", help="the sync's own workspace (emptied first)")
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--touches", type=int, default=500_000)
    parser.add_argument("--leads-per-account", type=int, default=8)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", type=int, help="where the kills land (default: a fresh one, printed)")
    parser.add_argument("--data-seed", type=int, default=1, help="the records' contents")
    parser.add_argument("--clients", type=int, default=2, help="client threads sending batches at once")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (>1: gthread)")
    parser.add_argument("--port", type=int, default=8102, help="8101-8109 on this machine")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="throttle counters; '' for the database cache")
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0,
        help="ANALYZE the lead, touch, stage event and account tables every this many seconds during the runs "
        "(0: only once, before them)",
    )
    # the client's own arguments (the harness passes them)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.add_argument("--today", help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        sys.exit(run_client(args))

    total = time.perf_counter()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    rng = random.Random(seed)
    accounts = max(1, args.leads // args.leads_per_account)
    today = dt.datetime.now(dt.UTC).replace(microsecond=0)
    django_setup(args.database_url)
    prepare_database()
    print(f"== bench/sync.py on {postgres_facts()}; kill seed {seed} (--seed {seed} repeats these kills)")
    started = time.perf_counter()
    workspace, how = workspace_reset(args.workspace, "Bench Sync")
    print(f"workspace '{args.workspace}': {how}")
    for n in (1, 2):  # sales reps, so that MQLs made by the touches are routed as in production
        manage("add_member", "--workspace", args.workspace, "--email", f"rep{n}@bench-sync.test", "--role", "sales_rep")
    key = api_key(args.workspace, "read_write", "bench/sync.py")
    seconds = analyze("leads_lead", "accounts_account", "attribution_touch", "funnel_stageevent")
    print(f"ANALYZE of the lead, account, touch and stage event tables: {seconds:.1f} s")
    data = dataset(leads=args.leads, touches=args.touches, accounts=accounts, seed=args.data_seed, today=today)
    sizes = {phase: len(batches_of(data[phase], args.batch)) for phase in PHASES}
    total_batches = sum(sizes.values())
    print(
        f"data (seed {args.data_seed}, relative to {today.isoformat()}): {len(data['accounts']):,} accounts, "
        f"{len(data['leads']):,} leads, {len(data['touches']):,} touches in {total_batches} batches of "
        f"{args.batch:,} ({', '.join(f'{n} {p}' for p, n in sizes.items())}); "
        f"setup {time.perf_counter() - started:.1f} s"
    )
    client_kill = (rng.randrange(total_batches // 20, total_batches - total_batches // 20), rng.uniform(0.0, 0.3))
    worker_kill = (rng.randrange(client_kill[0] + 1, total_batches), rng.uniform(0.02, 0.2))
    redis_url = args.redis_url if args.redis_url and redis_reachable(args.redis_url) else ""
    database = args.database_url.rsplit("/", 1)[-1].split("?")[0]
    failures: list[str] = []

    server = Server(
        database_url=args.database_url, port=args.port, workers=args.workers, threads=args.threads, redis_url=redis_url
    )
    analyzer = Analyzer(args.analyze_every) if args.analyze_every > 0 else None
    print(
        f"statistics: ANALYZE every {args.analyze_every:g} s during the runs"
        if analyzer
        else f"statistics: ANALYZE once, before the runs; during them only autovacuum could (autovacuum={autovacuum()})"
    )
    with server:
        if analyzer:
            analyzer.start()
        print(f"server: {server.describe()}")
        print(
            f"client: {sys.executable} {Path(__file__).name} --client (a subprocess; HTTP only), requests.Session "
            f"per thread, {args.clients} threads per phase; Idempotency-Key = <sync run id>:<resource>:"
            "sha256(batch body); retries network errors, 429 and 5xx"
        )

        def client(run_id: str) -> list[str]:
            return [
                sys.executable,
                str(Path(__file__).resolve()),
                "--client",
                "--base",
                server.base,
                "--run-id",
                run_id,
                "--today",
                today.isoformat(),
                "--leads",
                str(args.leads),
                "--touches",
                str(args.touches),
                "--accounts",
                str(accounts),
                "--batch",
                str(args.batch),
                "--data-seed",
                str(args.data_seed),
                "--clients",
                str(args.clients),
            ]

        env = os.environ | {"BENCH_SYNC_API_KEY": key}
        first_run = f"sync-{seed}-1"

        # 1. the client killed at a random batch
        print(
            f"== run 1 (sync run {first_run}): SIGKILL to the client {client_kill[1]:.3f} s after it sends batch "
            f"{client_kill[0]} of {total_batches}"
        )
        killed = threading.Event()

        def kill_client(event: dict, run: Run) -> None:
            if event["global"] == client_kill[0] and event["attempt"] == 0 and not killed.is_set():
                killed.set()

                def kill() -> None:
                    time.sleep(client_kill[1])
                    run.process.send_signal(signal.SIGKILL)
                    print(
                        f"   SIGKILL to the client (pid {run.process.pid}) during {event['phase']} batch "
                        f"{event['batch']}",
                        flush=True,
                    )

                threading.Thread(target=kill, daemon=True).start()

        run1 = Run("run 1", client(first_run), env, "/tmp")  # noqa: S108
        run1.execute(on_send=kill_client)
        run1.report()
        if run1.returncode != -signal.SIGKILL:
            failures.append(f"run 1 was meant to be killed; it exited with {run1.returncode}")
        if run1.refused:
            sys.exit(
                finish(failures + [f"run 1: the server refused a batch for good: {run1.refused[0]}"], server, total)
            )
        time.sleep(0.5)
        print(f"   in the database now: {describe_counts(workspace_counts(workspace.pk))}")

        # 2. the same sync run again from the start; a server worker killed mid-request
        print(
            f"== run 2 (sync run {first_run} again, from the start): SIGKILL to a busy gunicorn worker "
            f"{worker_kill[1]:.3f} s after batch {worker_kill[0]} is sent"
        )
        worker_killed = threading.Event()

        def kill_worker(event: dict, run: Run) -> None:
            if event["global"] == worker_kill[0] and event["attempt"] == 0 and not worker_killed.is_set():
                worker_killed.set()

                def kill() -> None:
                    time.sleep(worker_kill[1])
                    busy = server.busy_worker_pids()
                    pid = busy[0] if busy else rng.choice(server.worker_pids())
                    doing = backends(database)
                    os.kill(pid, signal.SIGKILL)
                    print(
                        f"   SIGKILL to gunicorn worker {pid} ({'holding a client connection' if busy else 'idle'}) "
                        f"after {event['phase']} batch {event['batch']} was sent; the server's PostgreSQL "
                        f"sessions then: {doing}",
                        flush=True,
                    )

                threading.Thread(target=kill, daemon=True).start()

        run2 = Run("run 2", client(first_run), env, "/tmp")  # noqa: S108
        run2.execute(on_send=kill_worker)
        run2.report()
        if run2.returncode != 0:
            failures.append(f"run 2 exited with {run2.returncode} (see {run2.stderr_path})")
        if not worker_killed.is_set():
            failures.append("run 2 ended before the worker kill point")
        for phase, summary in run2.phases.items():
            if summary["counts"]["error"]:
                failures.append(f"run 2: {summary['counts']['error']:,} {phase} refused, e.g. {run2.record_errors[:1]}")
        after_sync = workspace_counts(workspace.pk)
        print(f"   in the database now: {describe_counts(after_sync)}")

        # 3. the database holds exactly what was sent
        print("== check: the workspace holds exactly what was sent")
        problems = check_database(workspace.pk, data)
        failures += problems
        print(f"   {'correct' if not problems else 'WRONG: ' + '; '.join(problems)}")

        # 4. a new sync run of the same data: everything unchanged, nothing written
        second_run = f"sync-{seed}-2"
        print(f"== run 3 (a new sync run {second_run}, the same records): every record should be unchanged")
        run3 = Run("run 3", client(second_run), env, "/tmp")  # noqa: S108
        run3.execute()
        run3.report()
        if run3.returncode != 0:
            failures.append(f"run 3 exited with {run3.returncode} (see {run3.stderr_path})")
        for phase, summary in run3.phases.items():
            counts = summary["counts"]
            if counts["unchanged"] != len(data[phase]) or summary["replayed"]:
                failures.append(f"run 3: {phase} {counts} ({summary['replayed']} replayed), not all unchanged")
        after_again = workspace_counts(workspace.pk)
        written = {k: after_again[k] - after_sync[k] for k in after_sync if k != "idempotency records"}
        print(f"   rows added by run 3: {describe_counts(written)}")
        if any(written.values()):
            failures.append(f"run 3 wrote rows: {written}")
        if analyzer:
            print(analyzer.stop())
    sys.exit(finish(failures, server, total))


def finish(failures: list[str], server: Server, started: float) -> int:
    server_errors = server.errors()
    if server_errors:
        print(f"server log {server.log_path}: exceptions")
        print("\n".join(server_errors))
    print(f"total {time.perf_counter() - started:.1f} s; {machine_load()}")
    if failures:
        print("FAILED:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("all checks passed: nothing lost, nothing duplicated, the second sync changed nothing")
    return 0


if __name__ == "__main__":
    main()
