"""Shared plumbing for the benchmark scripts: a scratch PostgreSQL database and the results page."""

import os
import platform
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def scratch_database(name: str) -> str:
    """Drop and recreate database ``name``, migrate it, and return its URL."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env={**os.environ, "DATABASE_URL": url}
    )
    return url


def production_env(url: str, *, redis_db: int | None = None) -> dict[str, str]:
    """Environment for a child process in production mode on database ``url`` (and a Redis database)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "CXO_DEFAULT_RATE_LIMIT": "10000000",
        "CXO_LOG_LEVEL": "WARNING",
    }
    if redis_db is not None:
        env["REDIS_URL"] = env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        // 1024
        // 1024
    )
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, Python {platform.python_version()}, {pg}"


def write_section(title: str, body: str) -> None:
    """Replace the ``## title`` section of docs/benchmarks.md with ``body``."""
    page = ROOT / "docs" / "benchmarks.md"
    text = page.read_text()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    section = f"## {title}\n\n{body.strip()}\n\nMeasured {stamp} on {machine()}.\n\n"
    pattern = re.compile(rf"## {re.escape(title)}\n.*?(?=\n## |\Z)", re.S)
    text = (
        pattern.sub(lambda _: section.rstrip() + "\n", text)
        if pattern.search(text)
        else text + "\n" + section
    )
    page.write_text(text)
