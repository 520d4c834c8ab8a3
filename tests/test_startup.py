"""The app starts with no environment variables at all, and production refuses a missing key.

Each test runs manage.py in a fresh interpreter whose environment holds only PATH and HOME,
in a copy of the source tree: with no settings the data directory defaults to ``var/`` beside
the code, and a copy keeps the developer's own ``var/db.sqlite3`` out of reach.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "bench",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "*.png",
)


@pytest.fixture
def tree(tmp_path):
    copy = tmp_path / "app"
    shutil.copytree(REPO, copy, ignore=NOT_SOURCE)
    return copy


def bare_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", str(Path.home()))}
    env.update(extra)
    return env


def manage(tree, *args, env=None, timeout=180):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        env=env or bare_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_starts_and_serves_with_no_environment_at_all(tree):
    check = manage(tree, "check")
    assert check.returncode == 0, check.stderr
    migrate = manage(tree, "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    assert (tree / "var" / "db.sqlite3").exists()
    assert manage(tree, "createcachetable").returncode == 0

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=tree,
        env=bare_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:  # noqa: S310
                    assert response.status == 200
                    body = response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert body is not None, output
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'name="password"' in body


def test_production_without_secret_key_refuses_to_start(tree):
    result = manage(tree, "check", env=bare_env(DEBUG="0"))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_with_a_secret_key_starts(tree):
    result = manage(tree, "check", env=bare_env(DEBUG="0", SECRET_KEY="a-long-random-production-key-" + "x" * 40))
    assert result.returncode == 0, result.stderr


def test_migrate_alone_makes_the_database_cache_table(db, settings):
    """Without Redis the API throttle counts in the database cache; ``migrate`` makes its table."""
    import importlib

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_table"}}
    from django.db import connection

    migration = importlib.import_module("sync.migrations.0005_cache_table")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS cache_table")
    assert "cache_table" not in connection.introspection.table_names()
    editor = type("Editor", (), {"connection": connection})()  # all the function reads of it
    migration.create_cache_table(None, editor)
    assert "cache_table" in connection.introspection.table_names()
