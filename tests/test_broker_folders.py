"""The embedded run's filesystem broker keeps every file it writes under DATA_DIR: nothing lands
in the directory the process runs in (kombu's default control folder is ./control)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import json
import django

django.setup()
from django.conf import settings
from config.celery import app

with app.connection_for_write() as connection:
    channel = connection.default_channel
    channel.exchange_declare("probe", type="fanout")  # a broadcast exchange, as the worker's control
    channel.queue_declare("probe-queue")
    channel.queue_bind("probe-queue", "probe", "")
    connection.SimpleQueue("probe-queue").put({"hello": 1})
print(json.dumps({"options": settings.CELERY_BROKER_TRANSPORT_OPTIONS, "results": settings.CELERY_RESULT_BACKEND}))
"""


def test_the_filesystem_broker_writes_only_under_data_dir(tmp_path):
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": "filesystem://",
        "DATA_DIR": str(data_dir),
    }
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    settings = json.loads(run.stdout.strip().splitlines()[-1])
    folders = {name: value for name, value in settings["options"].items() if "folder" in name}
    assert {"data_folder_in", "data_folder_out", "processed_folder", "control_folder"} <= set(folders)
    for name, folder in folders.items():
        assert Path(folder).is_relative_to(data_dir), f"{name} = {folder}"
    assert Path(settings["results"].removeprefix("file://")).is_relative_to(data_dir)
    assert list(cwd.iterdir()) == [], "the broker wrote beside the process, not under DATA_DIR"
    assert (Path(folders["control_folder"]) / "probe.exchange").exists()
