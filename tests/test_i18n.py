"""The site's language and time zone (blog/locale.py): chosen in the admin,
defaulting to the environment's, applied to pages, caches, scripts and mail."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from blog.models import SiteIdentity
from tests.factories import make_comment, make_post, make_user, set_site_identity

pytestmark = pytest.mark.django_db


def html_tag(content: bytes) -> str:
    return re.search(r"<html[^>]*>", content.decode()).group(0)


def test_pages_are_in_english_left_to_right_by_default(client):
    response = client.get(make_post().get_absolute_url())
    assert html_tag(response.content) == '<html lang="en" dir="ltr">'
    assert response["Content-Language"] == "en"


def test_the_environment_language_is_the_default(client, settings):
    settings.LANGUAGE_CODE = "de"
    response = client.get(make_post().get_absolute_url())
    assert html_tag(response.content) == '<html lang="de" dir="ltr">'


def test_arabic_chosen_in_the_admin_turns_every_page_right_to_left(client):
    post = make_post()
    set_site_identity(language="ar")
    for url in ["/", post.get_absolute_url(), "/search/?q=x", "/no-such-page/"]:
        assert html_tag(client.get(url).content) == '<html lang="ar" dir="rtl">', url


def test_a_change_of_language_shows_at_once_on_cached_pages(client):
    post = make_post()
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "miss"
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "hit"
    set_site_identity(language="zh-hans")
    response = client.get(post.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert html_tag(response.content) == '<html lang="zh-hans" dir="ltr">'


def test_the_site_language_is_chosen_on_the_admin_site_identity_page(client):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    set_site_identity()
    page = client.get("/admin/blog/siteidentity/1/change/").content.decode()
    assert '<option value="zh-hans">简体中文 (Simplified Chinese)</option>' in page
    assert '<option value="Asia/Shanghai">Asia/Shanghai</option>' in page
    data = {
        "title": "博客",
        "description": "文章",
        "posts_per_page": "10",
        "language": "zh-hans",
        "time_zone": "Asia/Shanghai",
    }
    response = client.post("/admin/blog/siteidentity/1/change/", data)
    assert response.status_code == 302
    identity = SiteIdentity.current()
    assert (identity.language, identity.time_zone) == ("zh-hans", "Asia/Shanghai")
    # The admin itself now speaks the site's language (Django's own words).
    assert '<html lang="zh-hans"' in client.get("/admin/").content.decode()


def test_an_unknown_language_or_time_zone_is_refused_in_the_admin(client):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    set_site_identity()
    data = {
        "title": "Blog",
        "description": "Posts",
        "posts_per_page": "10",
        "language": "xx",
        "time_zone": "Mars/Olympus",
    }
    response = client.post("/admin/blog/siteidentity/1/change/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"language", "time_zone"}
    assert SiteIdentity.current().language == ""


def test_dates_and_times_follow_the_site_time_zone(client):
    post = make_post(
        published_at=datetime.datetime(2026, 3, 31, 20, 30, tzinfo=datetime.UTC)
    )
    make_comment(
        post=post,
        submit_date=datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC),
    )
    page = client.get(post.get_absolute_url(), follow=True).content.decode()
    assert "March 31, 2026 at 23:30" in page
    set_site_identity(time_zone="Asia/Shanghai")
    # Published on April 1st in Shanghai: the post's address moves with its
    # date, and the old one answers with a redirect.
    response = client.get(post.get_absolute_url(), follow=True)
    assert response.redirect_chain == [(f"/2026/04/{post.slug}/", 301)]
    page = response.content.decode()
    assert "April 1, 2026 at 07:30" in page
    assert '<time datetime="2026-04-01T07:30:00+08:00">' in page


def test_dates_follow_the_site_language(client):
    post = make_post(
        published_at=datetime.datetime(2026, 3, 5, 10, 0, tzinfo=datetime.UTC)
    )
    set_site_identity(language="zh-hans")
    assert "2026年3月5日" in client.get(post.get_absolute_url()).content.decode()
    set_site_identity(language="de")
    assert "5. März 2026" in client.get(post.get_absolute_url()).content.decode()


def test_a_time_zone_gone_from_the_system_falls_back_to_the_environment(client):
    # A row saved on a machine whose time zone database knew it.
    SiteIdentity.defaults().save()
    SiteIdentity.objects.update(time_zone="Gone/Away")
    cache.delete(SiteIdentity.CACHE_KEY)
    response = client.get(make_post().get_absolute_url())
    assert response.status_code == 200


def test_scripts_get_their_strings_from_a_catalogue_per_language(client):
    set_site_identity(language="fr")
    page = client.get(make_post().get_absolute_url()).content.decode()
    assert '<script src="/jsi18n/fr.js" defer></script>' in page
    response = client.get("/jsi18n/fr.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "django.gettext" in response.content.decode()
    assert client.get("/jsi18n/xx.js").status_code == 404


def test_work_outside_a_request_uses_the_site_locale():
    from blog.locale import site_locale

    set_site_identity(language="de", time_zone="Europe/Berlin")
    with site_locale():
        assert translation.get_language() == "de"
        assert timezone.get_current_timezone_name() == "Europe/Berlin"
    assert translation.get_language() != "de"
