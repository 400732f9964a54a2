from django.conf import settings
from django.http import HttpRequest

from blog.seo import PageMeta


def site(request: HttpRequest) -> dict:
    return {
        "SITE_NAME": settings.INKWELL_SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        # Pages whose view builds no metadata (404, comment pages) get these.
        "page_meta": PageMeta(
            title=settings.INKWELL_SITE_NAME,
            description=settings.INKWELL_SITE_DESCRIPTION,
            canonical=f"{settings.SITE_URL}{request.path}",
        ),
    }
