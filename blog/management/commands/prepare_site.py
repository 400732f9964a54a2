import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command

from blog.apps import point_site_at_site_url
from blog.models import Post

PASSWORD_FILE = Path(settings.BASE_DIR) / ".admin-password"


class Command(BaseCommand):
    help = (
        "Point the site's address at SITE_URL, load the original article if it is "
        "missing and make sure an admin login exists, then say how to sign in. "
        "Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        point_site_at_site_url()
        if not Post.objects.filter(slug="back-spasm-symptoms-you-should-know").exists():
            call_command("loaddata", "original_article", verbosity=0)
            self.stdout.write("Loaded the original article.")

        User = get_user_model()
        admin = User.objects.filter(is_superuser=True, is_active=True).first()
        if admin is None:
            password = secrets.token_urlsafe(12)
            admin = User.objects.create_superuser(
                username="admin", email="admin@example.com", password=password
            )
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)

        url = f"{settings.SITE_URL}/admin/"
        if PASSWORD_FILE.exists():
            password = PASSWORD_FILE.read_text().strip()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Sign in at {url} as '{admin.get_username()}' "
                    f"with the password '{password}' (kept in {PASSWORD_FILE.name})."
                )
            )
        else:
            self.stdout.write(
                f"Sign in at {url} as '{admin.get_username()}'. Forgot the password? "
                f"python manage.py changepassword {admin.get_username()}"
            )
