from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def point_site_at_site_url(sender=None, using: str = "default", **kwargs) -> None:
    """Keep the sites framework's domain equal to SITE_URL: comments record
    it, and the admin's "View on site" (/admin/r/…) sends people to it.

    Run after every `migrate` and by `prepare_site`: `make run` and `make
    serve` do both or the first on every start, with SITE_URL set for the
    port they serve on.
    """
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.sites.models import Site

    domain = urlsplit(settings.SITE_URL).netloc or "127.0.0.1:8000"
    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": domain, "name": settings.INKWELL_SITE_NAME},
    )


def start_site_identity(sender, using: str = "default", **kwargs) -> None:
    """On first start the site's title, description and posts per page come
    from the environment; from then on the admin's Site identity rules."""
    from blog.models import SiteIdentity

    if not SiteIdentity.objects.using(using).filter(pk=1).exists():
        SiteIdentity.defaults().save(using=using)


def forget_pages_rendered_before(sender, **kwargs) -> None:
    """Every deploy runs `migrate`: pages and fragments cached by the old code
    (its templates, its markup) must not outlive it."""
    from blog import pagecache

    pagecache.forget_all_pages()


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = _("Blog")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(point_site_at_site_url, sender=self)
        post_migrate.connect(start_site_identity, sender=self)
        post_migrate.connect(forget_pages_rendered_before, sender=self)

        from blog import pagecache

        pagecache.connect_signals()
