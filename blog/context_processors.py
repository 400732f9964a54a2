from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject as lazy

from blog import menus
from blog.models import SiteIdentity
from blog.seo import PageMeta


def site(request: HttpRequest) -> dict:
    identity = SiteIdentity.current()
    return {
        "SITE": identity,
        "SITE_NAME": identity.title,
        "SITE_URL": settings.SITE_URL,
        "menus": lazy(menus.cached_menus),
        # Pages whose view builds no metadata (404, comment pages) get these.
        "page_meta": PageMeta(
            title=identity.title,
            description=identity.description,
            canonical=f"{settings.SITE_URL}{request.path}",
        ),
    }
