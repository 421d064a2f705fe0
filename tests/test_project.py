"""The project shell: run modes, roles and security defaults a user or operator would notice."""

import os
import secrets
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["marketer", "agent", "admin"])
def test_each_role_can_log_in_and_see_home(client, make_user, role):
    make_user(role, username=f"the-{role}")
    assert client.login(username=f"the-{role}", password="pw-123456")
    assert client.get(reverse("home")).status_code == 200


def test_agent_cannot_open_marketer_areas(client, make_user):
    client.force_login(make_user("agent"))
    assert client.get(reverse("segments:home")).status_code == 403


def test_create_user_prints_a_working_token_last(db, capsys):
    call_command("create_user", "ops", "--role", "marketer", "--token")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(reverse("api-schema")).status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get(reverse("api-schema")).status_code == 401


def test_production_settings_pass_deploy_check():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SETTINGS_MODULE": "cxo_site.settings",
        "DJANGO_ALLOWED_HOSTS": "cxo.example",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_the_development_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update({"DJANGO_DEBUG": "false", "DJANGO_SETTINGS_MODULE": "cxo_site.settings"})
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
