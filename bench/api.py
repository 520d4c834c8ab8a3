"""Benchmark of the REST API over real HTTP: gunicorn on PostgreSQL, a keep-alive client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/funnel_bench \\
        .venv/bin/python bench/api.py [--leads 50000] [--clients 2] [--workers 2] [--threads 1]

It starts its own gunicorn (DEBUG off, the throttle raised so that it measures the server and
not the limit) and measures, with a ``requests.Session`` per client thread:

(a) new leads through ``POST /api/v1/leads/bulk/`` in batches of 1,000 (target 5,000 a second),
(b) the same batches sent again, every record unchanged (target 10,000 a second),
(c) paging through the million leads of the workspace ``bench`` (bench/generate.py) with
    ``updated_since`` at ``page_size=1000``, following ``next`` (target 20,000 records a second).

(a) and (b) run in a workspace of their own (``bench-api``), emptied at the start. It prints
records a second and the request latency (p50, p95) of each, the server's settings, and exits
non-zero when an answer is wrong (a record not created, not unchanged, missed or repeated).
The server helpers here are shared with bench/sync.py. See bench/README.md.
"""

import argparse
import atexit
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/funnel_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
THROTTLE_RATE = "100000/min"
# gunicorn is reached as the TLS proxy reaches it in production; without this header the
# production settings redirect every request to HTTPS (SECURE_SSL_REDIRECT).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
SENIORITIES = ("executive", "director", "manager", "individual")
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kira", "Liam")
LAST_NAMES = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones", "Khan")
TITLES = ("VP Marketing", "Director of Sales", "Marketing Manager", "Engineer", "CFO", "Head of Growth")
DEPARTMENTS = ("Marketing", "Sales", "Engineering", "Finance", "Operations")


# --- shared with bench/sync.py: Django in this process, the database, the server ---------------


def django_setup(database_url: str) -> None:
    """Django in the harness (migrations, resets, checks); the server runs in gunicorn."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DATA_DIR", "/tmp/bench-data")  # noqa: S108 - scratch space of the benchmark
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")


def prepare_database() -> None:
    """Apply the migrations and make the database cache's table (the throttle's counters when
    there is no Redis): a no-op when both are there."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def postgres_facts() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        facts = []
        for name in ("shared_buffers", "work_mem", "synchronous_commit", "autovacuum"):
            cursor.execute(f"SHOW {name}")
            facts.append(f"{name}={cursor.fetchone()[0]}")
    return f"PostgreSQL {version.split()[0]} ({', '.join(facts)}), {os.cpu_count()} cores, {machine_load()}"


def machine_load() -> str:
    """Other work on the machine shares its cores with the server and the client."""
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def manage(*arguments: str) -> str:
    """Run a management command as an operator would (its stdout; stderr shown on failure)."""
    out = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"manage.py {' '.join(arguments)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def workspace_reset(slug: str, name: str):
    """Create the workspace, or empty it of every domain row (``workspace_data_delete``: one
    set-based DELETE per table, scoped to it; members and channels stay). Returns (workspace,
    what was done).

    The deletes run with ``session_replication_role = replica`` for that one transaction, which
    skips the foreign-key checks: every row of the workspace that could refer to a deleted row
    is deleted with it, and no other workspace refers to this one's rows. With the checks, each
    deleted lead costs a sequential scan of every workspace's touches and stage events at
    COMMIT (no index leads with ``lead_id``; see bench/README.md): emptying 3,000 leads next to
    the ten million touches of ``bench`` did not finish in ten minutes."""
    from django.db import connection, transaction

    from funnel.demo.load import workspace_data_delete
    from workspaces.models import Workspace

    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        manage("create_workspace", "--slug", slug, "--name", name)
        return Workspace.objects.get(slug=slug), "created"
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        deleted = {label: n for label, n in workspace_data_delete(workspace=workspace).items() if n}
    described = ", ".join(f"{n:,} {label.split('.')[-1]}" for label, n in deleted.items()) or "nothing"
    return workspace, f"emptied in {time.perf_counter() - started:.1f} s ({described})"


def api_key(slug: str, scope: str, name: str) -> str:
    return manage("create_api_key", "--workspace", slug, "--scope", scope, "--name", name).strip().splitlines()[-1]


def api_key_delete(secret: str) -> None:
    from workspaces.models import WorkspaceAPIKey

    WorkspaceAPIKey.keys.filter(prefix=secret.partition(".")[0]).delete()


def analyze(*tables: str) -> float:
    """Fresh planner statistics (autovacuum may be off, as on this machine; a migration that
    adds columns leaves them without statistics until the next ANALYZE)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return time.perf_counter() - started


def redis_reachable(url: str) -> bool:
    host_port = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


class Server:
    """gunicorn serving config.wsgi as in production (DEBUG off), in its own process group,
    stopped on exit whatever happens (an error, Ctrl-C, SIGTERM)."""

    def __init__(
        self,
        *,
        database_url: str,
        port: int,
        workers: int,
        threads: int,
        redis_url: str = "",
        throttle: str = THROTTLE_RATE,
        log_path: str | None = None,
    ):
        self.database_url, self.port, self.workers, self.threads = database_url, port, workers, threads
        self.redis_url, self.throttle = redis_url, throttle
        self.log_path = log_path or f"/tmp/bench-gunicorn-{port}.log"  # noqa: S108
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
        env |= {
            "DEBUG": "0",
            "SECRET_KEY": "bench",
            "SECURE_COOKIES": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url,
            "DATA_DIR": os.environ.get("DATA_DIR", "/tmp/bench-data"),  # noqa: S108
            "API_THROTTLE_RATE": self.throttle,
            "LOG_LEVEL": "WARNING",
        }
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def describe(self) -> str:
        kind = "gthread" if self.threads > 1 else "sync"
        cache = f"Redis {self.redis_url}" if self.redis_url else "the database cache (no Redis)"
        return (
            f"gunicorn {self.workers} workers x {self.threads} threads ({kind} workers, --preload) on {self.base}; "
            f"DEBUG=0, API_THROTTLE_RATE={self.throttle} (raised from the default 600/min so that the benchmark "
            f"measures the server, not the limit), throttle counters in {cache}, "
            f"DB_CONN_MAX_AGE={self.env.get('DB_CONN_MAX_AGE', '60')}, body cap "
            f"{int(self.env.get('API_MAX_BODY_BYTES', 10 * 1024 * 1024)):,} bytes; log {self.log_path}"
        )

    def __enter__(self) -> "Server":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                sys.exit(f"Port {self.port} is already in use: stop what listens there or pass --port.")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [
            str(gunicorn if gunicorn.exists() else ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--preload",
            "--timeout",
            "300",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ]
        log = open(self.log_path, "w")  # noqa: SIM115 - gunicorn writes to it for its whole life
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        atexit.register(self.stop)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda *_: sys.exit(f"stopped by signal; gunicorn {self.process.pid} stopped"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited with {self.process.returncode}:\n{Path(self.log_path).read_text()[-3000:]}")
            if self._answers() and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def _answers(self) -> bool:
        try:
            request = urllib.request.Request(f"{self.base}/api/v1/leads/", headers=PROXY_HEADERS)  # noqa: S310
            urllib.request.urlopen(request, timeout=5)  # noqa: S310 - our own server
        except urllib.error.HTTPError as error:
            return error.code in (401, 403)  # the app is up and refuses an anonymous caller
        except OSError:
            return False
        return True

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def busy_worker_pids(self) -> list[int]:
        """Workers holding an accepted client connection (a request in flight, or a kept-alive
        connection with gthread workers): their sockets, matched through /proc/net/tcp."""
        inodes = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == self.port and fields[3] == "01":  # ESTABLISHED, server side
                inodes.add(fields[9])
        busy = []
        for pid in self.worker_pids():
            try:
                links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
            except OSError:
                continue
            if any(f"socket:[{inode}]" in links for inode in inodes):
                busy.append(pid)
        return busy

    def errors(self) -> list[str]:
        """The distinct exceptions in the server's log, with how often each came."""
        counted: dict[str, int] = {}
        for line in Path(self.log_path).read_text(errors="replace").splitlines():
            if line and not line.startswith((" ", "Traceback", "The above", "During handling")) and "Error" in line:
                counted[line] = counted.get(line, 0) + 1
        return [f"{n:>5} x {line[:200]}" for line, n in counted.items()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass


# --- this benchmark ---------------------------------------------------------------------------


class Client:
    """Client threads, each with its own keep-alive ``requests.Session``."""

    def __init__(self, base: str, key: str, threads: int):
        import requests

        self.base, self.threads, self._requests = base, threads, requests
        self._local = threading.local()
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **PROXY_HEADERS}

    @property
    def session(self):
        if not hasattr(self._local, "session"):
            self._local.session = self._requests.Session()
            self._local.session.headers.update(self.headers)
        return self._local.session

    def post_all(self, path: str, bodies: list[bytes], keys: list[str]) -> tuple[float, list[dict]]:
        """POST every body (already encoded) from ``threads`` threads; (wall seconds, answers)."""

        def post(index: int) -> dict:
            started = time.perf_counter()
            headers = {"Idempotency-Key": keys[index]} if keys[index] else {}
            response = self.session.post(f"{self.base}{path}", data=bodies[index], headers=headers, timeout=600)
            answer = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
            return {
                "status": response.status_code,
                "seconds": time.perf_counter() - started,
                "answer": answer,
                "replayed": response.headers.get("Idempotent-Replayed") == "true",
                "text": response.text[:500],
            }

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            answers = list(pool.map(post, range(len(bodies))))
        return time.perf_counter() - started, answers

    def warm_up(self, path: str, times: int) -> None:
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            list(pool.map(lambda _: self.session.get(f"{self.base}{path}", timeout=60), range(times)))


def lead_batches(leads: int, batch: int, accounts: int, today: dt.datetime) -> tuple[list[list], list[list]]:
    """Accounts (one per ``leads // accounts``) and leads referencing them, as interchange records."""
    account_records = [
        {
            "external_id": f"acct-{a:06d}",
            "name": f"Company {a:06d}",
            "domain": f"company{a:06d}.example",
            "industry": ("Software", "Retail", "Finance", "Health")[a % 4],
            "employees": 10 + a % 5000,
            "country": ("US", "DE", "FR", "GB", "JP")[a % 5],
            "segment": ("smb", "mid_market", "enterprise")[a % 3],
        }
        for a in range(accounts)
    ]
    lead_records = []
    for n in range(leads):
        account = n * accounts // leads
        record = {
            "external_id": f"lead-{n:07d}",
            "email": f"{FIRST_NAMES[n % 12].lower()}.{LAST_NAMES[n % 11].lower()}.{n}@company{account:06d}.example",
            "first_name": FIRST_NAMES[n % 12],
            "last_name": LAST_NAMES[n % 11],
            "title": TITLES[n % 6],
            "seniority": SENIORITIES[n % 4],
            "department": DEPARTMENTS[n % 5],
            "phone": f"+1 555 {n % 10000:04d}",
            "account_external_id": f"acct-{account:06d}",
        }
        if n % 5:  # four in five were captured; the rest are people reached but not captured
            record["created_at"] = (today - dt.timedelta(days=400) + dt.timedelta(minutes=n)).isoformat()
        lead_records.append(record)
    chunk = lambda rows: [rows[i : i + batch] for i in range(0, len(rows), batch)]  # noqa: E731
    return chunk(account_records), chunk(lead_records)


def encode(batch: list[dict]) -> bytes:
    return json.dumps({"records": batch}, separators=(",", ":")).encode()


def bulk_row(label: str, records: int, seconds: float, answers: list[dict], target: float | None) -> dict:
    latencies = [a["seconds"] for a in answers]
    refused = sum(1 for a in answers if a["status"] != 200)
    if refused:
        return {"label": label, "skipped": f"{refused} of {len(answers)} batches refused (no figure)"}
    return {
        "label": label,
        "records": records,
        "requests": len(answers),
        "seconds": seconds,
        "rate": records / seconds,
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "target": target,
    }


def check_bulk(label: str, answers: list[dict], expected: str, replayed: bool, failures: list[str]) -> None:
    """Every answer 200 with every record in the expected status (and replayed, or not)."""
    refused = [(number, a) for number, a in enumerate(answers) if a["status"] != 200]
    if refused:
        number, first = refused[0]
        failures.append(
            f"{label}: {len(refused)} of {len(answers)} batches refused; batch {number} answered {first['status']}: "
            f"{' '.join(first['text'].split())[:200]}"
        )
    for number, answer in enumerate(answers):
        if answer["status"] != 200:
            continue
        statuses = {result["status"] for result in answer["answer"]["results"]}
        if statuses != {expected}:
            errors = [r["errors"] for r in answer["answer"]["results"] if r["status"] == "error"][:3]
            counts = answer["answer"]["counts"]
            failures.append(f"{label}: batch {number} has {counts} (expected all {expected}) {errors}")
        if answer["replayed"] != replayed:
            failures.append(f"{label}: batch {number} replayed={answer['replayed']}, expected {replayed}")


def page_through(client: Client, since: str, page_size: int) -> dict:
    """Follow ``next`` from ``updated_since`` to the end, in one stream (a cursor is sequential)."""
    session = client.session
    url = f"{client.base}/api/v1/leads/?updated_since={since}&page_size={page_size}"
    latencies, records, tombstones, pages = [], 0, 0, 0
    ids: set[int] = set()
    repeated = 0
    started = time.perf_counter()
    while url:
        begun = time.perf_counter()
        response = session.get(url, timeout=600)
        if response.status_code != 200:
            return {"error": f"page {pages} answered {response.status_code}: {response.text[:500]}"}
        page = response.json()
        latencies.append(time.perf_counter() - begun)
        pages += 1
        records += len(page["results"])
        tombstones += len(page["tombstones"])
        before = len(ids)
        ids.update(record["id"] for record in page["results"])
        repeated += len(page["results"]) - (len(ids) - before)
        url = page["next"] if page["has_more"] else None
    seconds = time.perf_counter() - started
    return {
        "records": records,
        "tombstones": tombstones,
        "pages": pages,
        "seconds": seconds,
        "latencies": latencies,
        "repeated": repeated,
        "ids": ids,
    }


def live_lead_count(workspace) -> int:
    from leads.selectors import live_leads
    from workspaces.scoping import workspace_scope

    with workspace_scope(workspace):
        return live_leads().count()


def print_table(rows: list[dict]) -> None:
    print(
        f"{'measure':<44}{'records':>11}{'requests':>10}{'seconds':>9}{'records/s':>12}{'p50 ms':>9}{'p95 ms':>9}"
        f"  {'target':<18}"
    )
    for row in rows:
        if row.get("skipped"):
            print(f"{row['label']:<44}{'':>11}{'':>10}  {row['skipped']}")
            continue
        verdict = ""
        if row["target"]:
            verdict = f">= {row['target']:,.0f}/s {'met' if row['rate'] >= row['target'] else 'MISSED'}"
        print(
            f"{row['label']:<44}{row['records']:>11,}{row['requests']:>10,}{row['seconds']:>9.2f}{row['rate']:>12,.0f}"
            f"{row['p50']:>9.1f}{row['p95']:>9.1f}  {verdict:<18}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--workspace", default="bench-api", help="the bulk upserts' own workspace (emptied first)")
    parser.add_argument("--paging-workspace", default="bench", help="holds the million leads of bench/generate.py")
    parser.add_argument("--leads", type=int, default=50_000, help="new leads sent in (a) and again in (b)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--updated-since", default="2000-01-01T00:00:00Z", help="the feed's updated_since in (c)")
    parser.add_argument("--clients", type=int, default=2, help="client threads sending batches at once")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (>1: gthread)")
    parser.add_argument("--port", type=int, default=8101, help="8101-8109 on this machine")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="throttle counters; '' for the database cache")
    parser.add_argument(
        "--idempotency-keys",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send an Idempotency-Key with every write, as a retrying client does (default), or none",
    )
    parser.add_argument("--skip-paging", action="store_true")
    args = parser.parse_args()

    django_setup(args.database_url)
    total = time.perf_counter()
    prepare_database()
    from workspaces.models import Workspace

    redis_url = args.redis_url if args.redis_url and redis_reachable(args.redis_url) else ""
    print(f"== bench/api.py on {postgres_facts()}")
    workspace, how = workspace_reset(args.workspace, "Bench API")
    print(f"workspace '{args.workspace}': {how}")
    paging = None if args.skip_paging else Workspace.objects.filter(slug=args.paging_workspace).first()
    paging_leads = live_lead_count(paging) if paging is not None else 0
    if not args.skip_paging:
        if paging is None or paging_leads < 1_000_000:
            print(
                f"workspace '{args.paging_workspace}' has {paging_leads:,} leads, not the million (c) pages through. "
                "Load it once (it takes minutes and rebuilds the indexes of that database):\n"
                f"  DATABASE_URL={args.database_url} .venv/bin/python bench/generate.py --leads 1000000 --seed 1 "
                f"--workspace {args.paging_workspace}"
            )
        if paging is not None:
            print(f"workspace '{args.paging_workspace}': {paging_leads:,} live leads for (c)")
    seconds = analyze("leads_lead", "accounts_account", "funnel_stageevent", "sync_tombstone")
    print(f"ANALYZE of the lead, account, stage event and tombstone tables: {seconds:.1f} s")
    write_key = api_key(args.workspace, "read_write", "bench/api.py")
    read_key = api_key(args.paging_workspace, "read", "bench/api.py paging") if paging is not None else None
    if read_key:
        atexit.register(api_key_delete, read_key)

    today = dt.datetime.now(dt.UTC).replace(microsecond=0)
    account_batches, batches = lead_batches(args.leads, args.batch, max(1, args.leads // 8), today)
    records = sum(len(b) for b in batches)
    bodies = [encode(b) for b in batches]
    run = f"{time.time_ns()}"

    def keys(kind: str, count: int) -> list[str]:
        return [f"bench-api-{run}-{kind}-{i}" if args.idempotency_keys else "" for i in range(count)]

    rows: list[dict] = []
    failures: list[str] = []
    server = Server(
        database_url=args.database_url,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        redis_url=redis_url,
    )
    with server:
        print(f"server: {server.describe()}")
        print(
            f"client: requests.Session per thread (keep-alive), {args.clients} client threads sending batches at "
            "once (a syncing system with parallel uploads); bodies JSON-encoded before the clock starts; "
            f"{'each write carries an Idempotency-Key' if args.idempotency_keys else 'no Idempotency-Key'}; "
            "latency = one request's round trip"
        )
        client = Client(server.base, write_key, args.clients)
        client.warm_up("/api/v1/leads/?page_size=1", 4 * args.workers)
        seconds, answers = client.post_all(
            "/api/v1/accounts/bulk/", [encode(b) for b in account_batches], keys("acct", len(account_batches))
        )
        check_bulk("accounts (setup)", answers, "created", False, failures)
        accounts = sum(map(len, account_batches))
        rows.append(bulk_row("accounts, new (setup, 1 per 8 leads)", accounts, seconds, answers, None))

        seconds, answers = client.post_all("/api/v1/leads/bulk/", bodies, keys("new", len(bodies)))
        check_bulk("(a) new leads", answers, "created", False, failures)
        rows.append(bulk_row(f"(a) new leads, bulk of {args.batch:,}", records, seconds, answers, 5000))

        seconds, answers = client.post_all("/api/v1/leads/bulk/", bodies, keys("again", len(bodies)))
        check_bulk("(b) unchanged leads", answers, "unchanged", False, failures)
        rows.append(bulk_row(f"(b) unchanged leads, bulk of {args.batch:,}", records, seconds, answers, 10000))

        if args.idempotency_keys:
            seconds, answers = client.post_all("/api/v1/leads/bulk/", bodies, keys("new", len(bodies)))
            check_bulk("idempotent replay", answers, "created", True, failures)
            rows.append(bulk_row("    the batches of (a) retried (replayed)", records, seconds, answers, None))

        in_database = live_lead_count(workspace)
        if in_database != records:
            failures.append(f"'{args.workspace}' holds {in_database:,} leads after (a), not {records:,}")

        if paging is None:
            skipped = "--skip-paging" if args.skip_paging else f"no workspace {args.paging_workspace}"
            rows.append({"label": "(c) page leads with updated_since", "skipped": skipped})
        else:
            reader = Client(server.base, read_key, 1)
            reader.warm_up(f"/api/v1/leads/?page_size={args.page_size}", 2 * args.workers)
            result = page_through(reader, args.updated_since, args.page_size)
            if "error" in result:
                failures.append(f"(c) {result['error']}")
                rows.append({"label": "(c) page leads with updated_since", "skipped": result["error"]})
            else:
                rows.append(
                    {
                        "label": f"(c) page leads, updated_since, {args.page_size:,}/page",
                        "records": result["records"],
                        "requests": result["pages"],
                        "seconds": result["seconds"],
                        "rate": result["records"] / result["seconds"],
                        "p50": percentile(result["latencies"], 50) * 1000,
                        "p95": percentile(result["latencies"], 95) * 1000,
                        "target": 20000,
                    }
                )
                if result["repeated"]:
                    failures.append(f"(c) {result['repeated']:,} records came twice")
                expected = live_lead_count(paging)
                if len(result["ids"]) != expected:
                    failures.append(f"(c) paged {len(result['ids']):,} distinct leads; the workspace has {expected:,}")
                print(
                    f"(c) one stream following next: {result['pages']:,} pages, {len(result['ids']):,} distinct leads "
                    f"(workspace: {expected:,}), {result['repeated']:,} repeated, {result['tombstones']:,} tombstones"
                )
        server_errors = server.errors()
    print_table(rows)
    print(f"total {time.perf_counter() - total:.1f} s; {machine_load()}")
    if server_errors:
        print(f"server log {server.log_path}: exceptions")
        print("\n".join(server_errors))
        failures.append(f"the server logged {len(server_errors)} kinds of exception")
    if failures:
        print("FAILED:")
        for failure in failures:
            print(f"  {failure}")
        sys.exit(1)
    print("all answers correct")


if __name__ == "__main__":
    main()
