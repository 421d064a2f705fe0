"""Test settings: the same as production's shape, with fast hashing and eager tasks.

The database and Redis still come from DATABASE_URL / REDIS_URL, so CI runs the
suite on PostgreSQL and Redis. Tests marked ``worker`` switch eager mode off and
start a real Celery worker (see tests/conftest.py).
"""

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server beside Playwright's loop

from cxo_site.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", os.environ.get("REDIS_URL", "memory://"))
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
CXO_DEFAULT_RATE_LIMIT = 1_000_000
