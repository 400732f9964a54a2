"""The sites framework's address follows SITE_URL on every start, so the
admin's "View on site" goes to the port the site is served on (#19.1)."""

import os
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import call_command

from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def admin_login():
    # With an admin in place prepare_site writes no password file.
    return make_user(username="boss", is_staff=True, is_superuser=True)


def test_prepare_site_points_the_site_at_site_url(settings, admin_login):
    Site.objects.filter(pk=settings.SITE_ID).update(domain="127.0.0.1:8000")
    settings.SITE_URL = "http://127.0.0.1:8100"
    call_command("prepare_site", stdout=StringIO())
    assert Site.objects.get_current().domain == "127.0.0.1:8100"


def test_migrate_points_the_site_at_site_url(settings):
    Site.objects.filter(pk=settings.SITE_ID).update(domain="127.0.0.1:8000")
    settings.SITE_URL = "https://blog.example.org"
    call_command("migrate", verbosity=0)
    assert Site.objects.get_current().domain == "blog.example.org"


def test_view_on_site_goes_to_the_port_the_site_is_served_on(
    client, settings, admin_login
):
    settings.SITE_URL = "http://127.0.0.1:8100"
    call_command("prepare_site", stdout=StringIO())
    post = make_post()
    client.force_login(admin_login)
    content_type = ContentType.objects.get_for_model(post)
    response = client.get(f"/admin/r/{content_type.pk}/{post.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"http://127.0.0.1:8100{post.get_absolute_url()}"


@pytest.mark.parametrize("target", ["run", "serve"])
def test_make_gives_every_start_step_the_site_url_of_its_port(target):
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT"}}
    plan = subprocess.run(
        ["make", "-n", target, "PORT=8123", "DJANGO_SECRET_KEY=x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    steps = [
        line
        for line in plan.splitlines()
        if "manage.py" in line and not line.lstrip().startswith("#")
    ]
    assert any("manage.py migrate" in step for step in steps)
    for step in steps:
        assert re.search(r"\bSITE_URL=http://127\.0\.0\.1:8123 ", step), step
