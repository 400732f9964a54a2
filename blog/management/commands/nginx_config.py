"""`manage.py nginx_config`: an nginx configuration for Inkwell behind nginx,
with the anonymous pages kept by nginx and purged by Inkwell
(blog/frontcache.py). The README's "Behind nginx" says how to use it."""

import getpass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.template.loader import render_to_string

from blog import pagecache


class Command(BaseCommand):
    help = (
        "Print an nginx configuration that serves the static files, keeps the "
        "anonymous pages and takes Inkwell's purges (FRONT_CACHE_PURGE_URL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--listen", default="80", help="nginx's address (80)")
        parser.add_argument(
            "--upstream", default="127.0.0.1:8000", help="gunicorn's address"
        )
        parser.add_argument(
            "--server-name",
            default=urlsplit(settings.SITE_URL).hostname,
            help="the site's host name (SITE_URL's)",
        )
        parser.add_argument(
            "--cache-dir",
            default="/var/cache/nginx/inkwell",
            help="where nginx keeps the pages",
        )
        parser.add_argument("--max-size", default="1g", help="the cache's bound")
        parser.add_argument(
            "--purge-from",
            default="127.0.0.1",
            help="the address Inkwell's purges come from",
        )
        parser.add_argument(
            "--standalone",
            metavar="DIR",
            help="a whole nginx.conf for an nginx of its own, working in DIR",
        )
        parser.add_argument("--workers", default="auto")

    def handle(self, *args, **options):
        port = options["listen"].rsplit(":", 1)[-1]
        cookies = {
            settings.SESSION_COOKIE_NAME,
            *pagecache.BYPASS_COOKIES,
        }
        self.stdout.write(
            render_to_string(
                "deploy/nginx.conf",
                {
                    "listen": options["listen"],
                    "listen_port": "" if port == "80" else port,
                    "upstream": options["upstream"],
                    "server_name": options["server_name"],
                    "cache_dir": options["cache_dir"],
                    "max_size": options["max_size"],
                    "purge_from": options["purge_from"],
                    "standalone": bool(options["standalone"]),
                    "work_dir": options["standalone"],
                    "workers": options["workers"],
                    "run_as": getpass.getuser(),
                    "personal_cookies": "|".join(sorted(cookies)),
                    "static_url": settings.STATIC_URL,
                    "static_root": str(settings.STATIC_ROOT).rstrip("/"),
                    "max_body": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20 + 1}m"
                    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                    else "0",
                },
            ),
            ending="",
        )
