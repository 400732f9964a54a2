"""The site's language and time zone: which are in force, and applying them.

A blog speaks one language to all its readers, so the language is not
negotiated per reader (no LocaleMiddleware, no language in the address): the
administrator chooses it, with the time zone, in the admin's Site identity;
the environment's LANGUAGE_CODE and TIME_ZONE are the defaults until then.
`SiteLocaleMiddleware` activates both for every request (the public pages,
the admin, the mail rendered on the way), `site_locale()` for work done
outside a request.

Pages are cached under the site's content version, which a change of the
site identity bumps (blog/pagecache.py), so a new language or time zone
shows on the next request of every process, cached pages included.
"""

from __future__ import annotations

import contextlib
import logging
import zoneinfo
from collections.abc import Callable, Iterator
from functools import cache

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

logger = logging.getLogger(__name__)


def language_choices() -> list[tuple[str, str]]:
    """The languages Inkwell ships a translation for, by their own name
    first ("Deutsch (German)"), so each reads right to whoever needs it."""
    choices = []
    for code, name in settings.LANGUAGES:
        info = LANG_INFO.get(code, {})
        local = info.get("name_local", name)
        label = local if local == name else f"{local} ({_(name)})"
        choices.append((code, label))
    return choices


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone, by name ("Europe/Paris"), UTC first."""
    names = sorted(zoneinfo.available_timezones() - {"UTC", "localtime"})
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


def supported_language(code: str) -> str:
    """`code` if we ship it, else the closest we do (zh-cn → zh-hans), else
    the environment's default."""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def site_language() -> str:
    """The language in force: the administrator's choice, else LANGUAGE_CODE."""
    from blog.models import SiteIdentity

    chosen = SiteIdentity.current().language or settings.LANGUAGE_CODE
    return supported_language(chosen)


def site_time_zone() -> zoneinfo.ZoneInfo:
    """The time zone in force: the administrator's choice, else TIME_ZONE."""
    from blog.models import SiteIdentity

    name = SiteIdentity.current().time_zone or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        logger.warning("Unknown time zone %r; using %s", name, settings.TIME_ZONE)
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@contextlib.contextmanager
def site_locale() -> Iterator[None]:
    """The site's language and time zone for the work inside (mail rendered
    by a management command or the worker), then back to what was active."""
    with translation.override(site_language()), timezone.override(site_time_zone()):
        yield


class SiteLocaleMiddleware:
    """Activates the site's language and time zone for the request.

    It sits after the page cache (a hit was rendered in the language in
    force, or its version would not be current) and after the database
    outage handler: without a database the environment's defaults apply.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            language, zone = site_language(), site_time_zone()
        except DatabaseError:
            language = supported_language(settings.LANGUAGE_CODE)
            zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        translation.activate(language)
        timezone.activate(zone)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
            timezone.deactivate()
        response.headers.setdefault("Content-Language", language)
        return response


_catalog = JavaScriptCatalog.as_view(packages=["blog"])


def javascript_catalog(request: HttpRequest, language: str) -> HttpResponse:
    """The strings of static/js in `language` (Django's JavaScript catalogue,
    from locale/*/LC_MESSAGES/djangojs.po), at an address of its own per
    language: pages load it as a script file (the CSP allows no inline
    script), and any HTTP cache may keep it."""
    if language not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    with translation.override(language):
        response = _catalog(request)
    patch_cache_control(response, public=True, max_age=3600)
    return response
