"""Production settings pass Django's deployment checklist (``check --deploy``) with no warning,
and the security headers they promise are sent. Run in a fresh interpreter with only the
production environment, as tests/test_startup.py does."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SECRET = "kq3-Zr8vT0p_Lw2xN5mYc7Hb9Fd1Gs4Jh6Ae0Ui2Oo4Pl6Mn8Bv0Cx2Zw4Qe6Rt8Y"


def production_env(tmp_path, **extra) -> dict:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATA_DIR": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "funnel.example.com",
    }
    env.update(extra)
    return env


def run(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=production_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


PROBE = """
import django, os
django.setup()
from django.test import Client
client = Client()
plain = client.get("/api/schema/")
print("plain", plain.status_code, plain.get("Location"))
proxied = client.get("/api/schema/", headers={"X-Forwarded-Proto": "https"})
print("proxied", proxied.status_code)
print("hsts", proxied.get("Strict-Transport-Security"))
print("csp", proxied.get("Content-Security-Policy"))
"""


def probe(tmp_path, **env) -> dict[str, str]:
    result = run(tmp_path, "-c", PROBE, DJANGO_SETTINGS_MODULE="config.settings", ALLOWED_HOSTS="testserver", **env)
    assert result.returncode == 0, result.stderr
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)


def test_behind_the_tls_proxy_pages_answer_with_hsts_and_plain_http_is_redirected(tmp_path):
    seen = probe(tmp_path)
    assert seen["plain"] == "301 https://testserver/api/schema/"
    assert seen["proxied"] == "200"
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in seen["csp"]


def test_the_redirect_and_hsts_can_be_switched_off_in_the_environment(tmp_path):
    seen = probe(tmp_path, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    assert seen["plain"].startswith("200")
    assert seen["hsts"] == "None"
