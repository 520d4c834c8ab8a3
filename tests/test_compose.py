"""docker-compose.yml cannot run here (no Docker), so its promises are checked as data: every
service has a healthcheck, the app services wait for a migrated web, and every setting the
settings module reads from the environment can be set from .env."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_stack_has_its_five_services_each_with_a_healthcheck():
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in SERVICES.items():
        assert "test" in service.get("healthcheck", {}), f"{name} has no healthcheck"


def test_the_database_keeps_its_data_in_a_volume():
    assert any(v.startswith("postgres-data:") for v in SERVICES["postgres"]["volumes"])
    assert "postgres-data" in COMPOSE["volumes"]


def test_web_migrates_once_the_database_is_healthy_and_the_others_wait_for_web():
    assert SERVICES["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "manage.py migrate" in " ".join(SERVICES["web"]["command"])
    for name in ("worker", "beat"):
        assert SERVICES[name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_every_environment_setting_can_be_set_from_dot_env():
    read = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', (ROOT / "config" / "settings.py").read_text()))
    read |= set(re.findall(r'_(?:bool|list|env)\("([A-Z_]+)"', (ROOT / "config" / "settings.py").read_text()))
    environment = SERVICES["web"]["environment"]
    # Fixed by the image or the stack itself, not by the user:
    fixed = {"DATA_DIR", "CELERY_BROKER_URL", "DATABASE_URL", "REDIS_URL", "DEBUG"}
    example = (ROOT / ".env.example").read_text()
    for name in sorted(read - fixed):
        assert name in environment, f"{name} is read by the settings but not passed to the containers"
        assert name in example, f"{name} is missing from .env.example"
    for service in ("worker", "beat"):
        assert SERVICES[service]["environment"] == environment


def test_the_web_healthcheck_comes_as_the_tls_proxy_would_so_the_https_redirect_does_not_fail_it():
    """Run the healthcheck's own command against a server that redirects, as production does,
    every request not marked X-Forwarded-Proto: https."""
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("X-Forwarded-Proto") == "https" and self.path == "/login/":
                self.send_response(200)
            else:
                self.send_response(301)
                self.send_header("Location", "https://localhost/login/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    test = SERVICES["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        code = test[3].replace("localhost:8000", f"127.0.0.1:{port}")
        assert code != test[3]
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
        server.shutdown()
    assert result.returncode == 0, result.stderr
