"""A shared HTTP cache in front of Inkwell (nginx's proxy_cache, Varnish, a
CDN): what lets it keep the anonymous pages, and the purges that take them
back when they change.

The page cache (blog/pagecache.py) stores pages that are the same bytes for
every anonymous reader. With `INKWELL_FRONT_CACHE_SECONDS` set, such a page
goes out with `Cache-Control: public, max-age=0, s-maxage=N`: browsers ask
again every time (and get a 304 from the ETag), a shared cache may answer
for up to N seconds (never past the next scheduled publication). Each
address sent that way is noted, with the content versions its page was built
under (`FrontCachedPage`). When a version is bumped, every noted address
built under it is purged once the change is committed: a `PURGE` request to
`INKWELL_FRONT_CACHE_PURGE_URL` with the address's path and host: `GET
<that URL's path><address's path>` when the URL has a path (nginx's
cache-purge module in a location of its own, as `manage.py nginx_config`
writes it), else `PURGE <address's path>` (Varnish, nginx's module in the
page's own location). An address whose purge fails stays noted and is tried
again at the next bump, and N bounds how long it can be stale meanwhile.
"""

from __future__ import annotations

import http.client
import logging
import math
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q

logger = logging.getLogger(__name__)

SITE = "site"  # pagecache.SITE: a bump of it purges every noted address
PURGE_TIMEOUT = 2.0  # seconds per request to the front cache
ENCODINGS = ({"Accept-Encoding": "gzip"}, {})


def enabled() -> bool:
    return settings.INKWELL_FRONT_CACHE_SECONDS > 0


def cache_control(seconds_left: float) -> str:
    """The Cache-Control of a stored page that `seconds_left` may be kept."""
    shared = min(settings.INKWELL_FRONT_CACHE_SECONDS, math.floor(seconds_left))
    if shared < 1:
        return "no-cache"
    return f"public, max-age=0, s-maxage={shared}"


# The addresses this process noted lately, with the versions they were noted
# under, so that a page sent again and again is written down once.
noted: dict[str, tuple] = {}
NOTED_AT_MOST = 4096


def scopes_text(scopes: Iterable[str]) -> str:
    """The scopes as stored: space-separated and space-framed, so that
    `post:1` is never found inside `post:12`."""
    return " " + " ".join(sorted(scopes)) + " "


def note(address: str, versions: dict[str, int]) -> None:
    """`address` went out to the front cache with a page built under
    `versions`; keep it, so a bump of any of them purges it."""
    if not settings.INKWELL_FRONT_CACHE_PURGE_URL:
        return
    stamp = tuple(sorted(versions.items()))
    if noted.get(address) == stamp:
        return
    if len(noted) >= NOTED_AT_MOST:
        noted.clear()
    noted[address] = stamp
    model = apps.get_model("blog", "FrontCachedPage")
    try:
        model.objects.update_or_create(
            address=address, defaults={"scopes": scopes_text(versions)}
        )
    except DatabaseError:
        # A page is still served; it is only not purged on the next change.
        logger.warning("Could not note %s for the front cache", address)
        noted.pop(address, None)


def purge(scopes: Iterable[str]) -> None:
    """Purge from the front cache every noted address built under any of
    `scopes` (all of them for the site's scope). Called once a change is
    committed (pagecache.bump)."""
    url = settings.INKWELL_FRONT_CACHE_PURGE_URL
    if not url:
        return
    scopes = set(scopes)
    model = apps.get_model("blog", "FrontCachedPage")
    pages = model.objects.all()
    if SITE not in scopes:
        wanted = Q()
        for scope in scopes:
            wanted |= Q(scopes__contains=f" {scope} ")
        pages = pages.filter(wanted)
    try:
        addresses = list(pages.values_list("address", flat=True))
    except DatabaseError:
        logger.warning("Could not read the front cache's noted pages")
        return
    if not addresses:
        return
    done = _send_purges(url, addresses)
    for address in addresses:
        noted.pop(address, None)
    if done:
        model.objects.filter(address__in=done).delete()


def _send_purges(url: str, addresses: list[str]) -> list[str]:
    """PURGE each address at the front cache, over one connection; the
    addresses it answered for (purged, or not held: 404)."""
    front = urlsplit(url)
    # nginx's cache-purge module takes GET <prefix><path> in a location of its
    # own (`manage.py nginx_config`); Varnish and others take PURGE <path>.
    method, prefix = ("GET", front.path) if front.path else ("PURGE", "")
    connection_class = (
        http.client.HTTPSConnection
        if front.scheme == "https"
        else http.client.HTTPConnection
    )
    connection = connection_class(front.netloc, timeout=PURGE_TIMEOUT)
    done = []
    try:
        for address in addresses:
            parts = urlsplit(address)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            statuses = []
            try:
                # The compressed copy and the plain one (the cache key names
                # the encoding: `manage.py nginx_config`).
                for encoding in ENCODINGS:
                    headers = {"Host": parts.netloc, **encoding}
                    connection.request(method, prefix + path, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    statuses.append(response.status)
            except (OSError, http.client.HTTPException) as error:
                logger.warning("Front cache purge of %s failed: %s", address, error)
                connection.close()
                break  # the rest waits for the next bump
            if all(status in (200, 204, 404) for status in statuses):
                done.append(address)
            else:
                logger.warning(
                    "Front cache answered %s to the purge of %s", statuses, address
                )
    finally:
        connection.close()
    return done
