from django.core.management import BaseCommand

from blog.models import MediaFile


class Command(BaseCommand):
    help = (
        "List in the media library the pictures already stored under uploads/ "
        "(the editor's) and wordpress/ (imports) that it does not know yet, such "
        "as those kept before it existed. Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        added = MediaFile.objects.register_stored()
        self.stdout.write(f"Added {added} picture(s) to the media library.")
