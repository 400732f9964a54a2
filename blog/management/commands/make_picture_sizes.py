from django.core.files.storage import default_storage
from django.core.management import BaseCommand

from blog import pagecache, pictures
from blog.models import MediaFile, Page, Post


class Command(BaseCommand):
    help = (
        "Make the smaller copies (srcset) of pictures stored before Inkwell made "
        "them on upload: every picture of the media library without them, every "
        "featured picture and every picture under uploads/ and wordpress/ the "
        "library does not know yet, which join it. --all makes them again "
        "for every picture. Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Make the copies again even for pictures that have them.",
        )

    def handle(self, *args, **options) -> None:
        # Pictures the library does not know yet join it, sized as they do.
        added = MediaFile.objects.register_stored()
        if added:
            self.stdout.write(f"Added {added} picture(s) to the media library.")
        names = set(MediaFile.objects.values_list("name", flat=True))
        for model in (Post, Page):
            names |= set(
                model.objects.exclude(featured_image="").values_list(
                    "featured_image", flat=True
                )
            )
        done = skipped = missing = 0
        for name in sorted(names):
            media = MediaFile.objects.filter(name=name).first()
            if (
                media is not None
                and not options["all"]
                and media.width
                and (media.variants or media.width <= pictures.WIDTHS[0])
            ):
                media.show_sizes(forget=False)
                skipped += 1
                continue
            try:
                size = default_storage.size(name)
            except OSError:
                self.stderr.write(f"Not in the storage, left as it is: {name}")
                missing += 1
                continue
            media = MediaFile.objects.register(name, size=size, forget=False)
            if media.width:
                done += 1
                if options["verbosity"] > 1:
                    widths = ", ".join(str(w) for w, _name in media.variants)
                    self.stdout.write(f"{name}: {widths or 'no smaller copy'}")
            else:
                self.stderr.write(f"Not a picture we can read, left as it is: {name}")
                missing += 1
        if done or added:
            pagecache.forget_all_pages()
        self.stdout.write(
            f"Pictures sized: {done}; already sized: {skipped}; left out: {missing}."
        )
