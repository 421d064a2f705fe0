"""Fixtures shared by every test package (app tests and tests/)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("CXO_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db):
    """make_user("marketer") -> a user with that role and password 'pw-123456'."""
    from cxo_site.accounts import create_or_update_user

    counter = iter(range(1, 10_000))

    def make(role: str = "marketer", username: str | None = None, password: str = "pw-123456"):
        name = username or f"{role}{next(counter)}"
        user, _ = create_or_update_user(username=name, role=role, password=password)
        return user

    return make


@pytest.fixture
def api_client_for(make_user):
    """api_client_for("agent") -> a DRF APIClient sending that user's Bearer token."""
    from rest_framework.test import APIClient

    from cxo_site.accounts import issue_api_token

    def make(role: str = "marketer"):
        user = make_user(role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(user=user)}")
        client.user = user
        return client

    return make


# --- a real Celery worker (production-mode integration tests) ---------------------------


def _services_available() -> str | None:
    if not settings.IS_POSTGRES or not os.environ.get("REDIS_URL"):
        return "needs DATABASE_URL=postgres://… and REDIS_URL (run through .ci/run)"
    return None


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real ``celery worker`` subprocess on the test database; tasks stop running eagerly.

    Use with ``live_server`` or ``transactional_db``: the worker sees only committed rows.
    """
    reason = _services_available()
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(f"worker test cannot run: {reason}")
        pytest.skip(reason)
    from django.db import connection

    from cxo_site.celery import app

    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "cxo_site.settings",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_CONN_MAX_AGE": "0",
    }
    celery = str(Path(sys.executable).with_name("celery"))
    proc = subprocess.Popen(
        [
            celery,
            "-A",
            "cxo_site",
            "worker",
            "--pool=solo",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        start_new_session=True,
    )
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start")
        yield proc
    finally:
        app.conf.task_always_eager = True
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# --- Playwright on Debian's Chromium ----------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        if REQUIRE_SERVICES:
            pytest.fail("browser tests need Debian's chromium at /usr/bin/chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }
